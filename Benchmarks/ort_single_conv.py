#!/usr/bin/env python3
"""ONNX Runtime on one Conv + Relu node (random weights): the best of 300 runs, for comparing a single layer with
ConvKit's kernel (Benchmarks/blocked_pointwise.c). Usage: ort_single_conv.py CIN COUT SIZE KERNEL THREADS"""
import sys, numpy as np, onnx, onnxruntime as ort, time
from onnx import helper, TensorProto, numpy_helper
C,K,H,k,threads=[int(a) for a in sys.argv[1:6]]
W=numpy_helper.from_array(np.random.rand(K,C,k,k).astype(np.float32),"W")
B=numpy_helper.from_array(np.zeros(K,np.float32),"B")
n=helper.make_node("Conv",["x","W","B"],["c"],pads=[k//2]*4)
r=helper.make_node("Relu",["c"],["y"])
g=helper.make_graph([n,r],"g",[helper.make_tensor_value_info("x",TensorProto.FLOAT,[1,C,H,H])],[helper.make_tensor_value_info("y",TensorProto.FLOAT,[1,K,H,H])],[W,B])
m=helper.make_model(g,opset_imports=[helper.make_opsetid("",13)])
so=ort.SessionOptions(); so.intra_op_num_threads=threads
s=ort.InferenceSession(m.SerializeToString(),so,providers=["CPUExecutionProvider"])
x=np.random.rand(1,C,H,H).astype(np.float32)
best=1e9
for i in range(300):
    t=time.perf_counter(); s.run(None,{"x":x}); best=min(best,time.perf_counter()-t)
print(f"ORT C{C} K{K} H{H} k{k} t{threads}: {best*1e6:.1f} us {2*C*K*H*H*k*k/best*1e-9:.1f} GF/s")
