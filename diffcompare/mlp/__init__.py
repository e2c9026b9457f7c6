"""The multilayer perceptron, its backpropagation rules derived by SymPy, and training."""
