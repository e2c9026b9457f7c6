"""Adapters: check the derivative rules of other frameworks' custom operations.

A custom operation of a framework (a ``torch.autograd.Function``, an autograd
primitive with ``defvjp``) carries its own backward rule; an adapter runs its forward on
float64 inputs and checks that rule as a vector-Jacobian product with the oracle's
:func:`~diffcompare.oracle.check_vjp`, reporting with its result object.  Each adapter
is its own module, imported by name, so the framework is loaded only when it is used:

- :mod:`diffcompare.adapters.torch`: ``check_function`` (extra ``torch``);
- :mod:`diffcompare.adapters.autograd`: ``check_primitive`` (autograd is a dependency);
- :mod:`diffcompare.adapters.jax`: ``check_custom_derivative`` (extra ``jax``).
"""

__all__: list[str] = []
