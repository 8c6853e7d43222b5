"""Code generation: the PyTorch emitter (`emit`) and the compile/build/load API."""
