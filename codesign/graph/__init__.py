"""The one integer graph: a DAG of ops over named int64 tensors, its op registry, its golden
executor and its frontends (QONNX import). See docs/architecture.md for how to add an op."""
