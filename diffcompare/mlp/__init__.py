"""The multilayer perceptron, its backpropagation rules derived by SymPy, and training
(the MLP by mini-batch SGD, and the linear model, a perceptron without hidden layers, by
gradient descent)."""
