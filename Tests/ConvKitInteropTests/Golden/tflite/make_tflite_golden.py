#!/usr/bin/env python3
"""Golden outputs for ConvKit's TFLite importer, computed by TensorFlow Lite's own interpreter.

    python3 -m venv /tmp/tflite-venv && /tmp/tflite-venv/bin/pip install ai-edge-litert==2.3.0 tflite==2.18.0 \
        flatbuffers numpy pillow
    /tmp/tflite-venv/bin/python Tests/ConvKitInteropTests/Golden/tflite/make_tflite_golden.py

Writes, next to this script:
- ops/CASE/model.tflite, input_K.npy, output_K.npy: one small model per operator variant (built here with the
  flatbuffer builders of the `tflite` package, which are generated from TensorFlow's schema.fbs), random inputs,
  and the interpreter's outputs;
- mediapipe/*.npy: the two MediaPipe models of Data/models/mediapipe on fixed inputs cut from Data/images (uint8
  inputs, so they stay small; the model input is derived from them exactly as the Swift test does).
"""
import os
import flatbuffers
import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter as _Interpreter, OpResolverType


def Interpreter(model_content):
    # TFLite's reference kernels (no XNNPACK delegate): the definition of each operator
    return _Interpreter(model_content=model_content, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)

import importlib

def _schema(name):
    # the package's __init__ rebinds tflite.NAME to the class; the builder functions live in the module
    return importlib.import_module("tflite." + name)


M, SG, T, BU, OP, OC = (_schema(n) for n in ["Model", "SubGraph", "Tensor", "Buffer", "Operator", "OperatorCode"])
Conv, DW, Pool, FC, SM, CC = (_schema(n) for n in ["Conv2DOptions", "DepthwiseConv2DOptions", "Pool2DOptions",
                                                    "FullyConnectedOptions", "SoftmaxOptions", "ConcatenationOptions"])
AddO, MulO, SubO, RS, TC = (_schema(n) for n in ["AddOptions", "MulOptions", "SubOptions", "ReshapeOptions",
                                                 "TransposeConvOptions"])
RB, RN, LR, RD, MP = (_schema(n) for n in ["ResizeBilinearOptions", "ResizeNearestNeighborOptions", "LeakyReluOptions",
                                           "ReducerOptions", "MirrorPadOptions"])
from tflite.BuiltinOperator import BuiltinOperator as OPS
from tflite.BuiltinOptions import BuiltinOptions as OPT

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../../../.."))
rng = np.random.default_rng(20261204)

TYPES = {np.float32: 0, np.float16: 1, np.int32: 2}


def build(tensors, ops, inputs, outputs):
    """tensors: [(name, shape, dtype, data-or-None)]; ops: [(opcode, [in], [out], options_type, options_fn)]."""
    b = flatbuffers.Builder(4096)
    codes = sorted({o[0] for o in ops})
    # buffers: 0 is the empty sentinel; one per constant tensor
    buffer_index, datas = [], [None]
    for (_, _, _, data) in tensors:
        if data is None:
            buffer_index.append(0)
        else:
            buffer_index.append(len(datas)); datas.append(np.ascontiguousarray(data).tobytes())
    buf_offsets = []
    for d in datas:
        vec = None
        if d is not None:
            b.StartVector(1, len(d), 16)
            b.head = b.head - len(d)
            b.Bytes[b.head:b.head + len(d)] = d
            vec = b.EndVector()
        BU.BufferStart(b)
        if vec is not None:
            BU.BufferAddData(b, vec)
        buf_offsets.append(BU.BufferEnd(b))
    tensor_offsets = []
    for k, (name, shape, dtype, _) in enumerate(tensors):
        n = b.CreateString(name)
        s = b.CreateNumpyVector(np.array(shape, dtype=np.int32))
        T.TensorStart(b); T.TensorAddShape(b, s); T.TensorAddType(b, TYPES[dtype])
        T.TensorAddBuffer(b, buffer_index[k]); T.TensorAddName(b, n)
        tensor_offsets.append(T.TensorEnd(b))
    op_offsets = []
    for (code, ins, outs, opt_type, opt_fn) in ops:
        opt = opt_fn(b) if opt_fn else None
        iv = b.CreateNumpyVector(np.array(ins, dtype=np.int32))
        ov = b.CreateNumpyVector(np.array(outs, dtype=np.int32))
        OP.OperatorStart(b); OP.OperatorAddOpcodeIndex(b, codes.index(code))
        OP.OperatorAddInputs(b, iv); OP.OperatorAddOutputs(b, ov)
        if opt is not None:
            OP.OperatorAddBuiltinOptionsType(b, opt_type); OP.OperatorAddBuiltinOptions(b, opt)
        op_offsets.append(OP.OperatorEnd(b))
    code_offsets = []
    for c in codes:
        OC.OperatorCodeStart(b); OC.OperatorCodeAddDeprecatedBuiltinCode(b, min(c, 127))
        OC.OperatorCodeAddBuiltinCode(b, c); OC.OperatorCodeAddVersion(b, 1)
        code_offsets.append(OC.OperatorCodeEnd(b))

    def vec_of(offsets):
        b.StartVector(4, len(offsets), 4)
        for o in reversed(offsets):
            b.PrependUOffsetTRelative(o)
        return b.EndVector()
    tv, opv = vec_of(tensor_offsets), vec_of(op_offsets)
    inv = b.CreateNumpyVector(np.array(inputs, dtype=np.int32))
    outv = b.CreateNumpyVector(np.array(outputs, dtype=np.int32))
    SG.SubGraphStart(b); SG.SubGraphAddTensors(b, tv); SG.SubGraphAddInputs(b, inv)
    SG.SubGraphAddOutputs(b, outv); SG.SubGraphAddOperators(b, opv)
    sg = SG.SubGraphEnd(b)
    sgv, cv, bv = vec_of([sg]), vec_of(code_offsets), vec_of(buf_offsets)
    desc = b.CreateString("convkit golden")
    M.ModelStart(b); M.ModelAddVersion(b, 3); M.ModelAddOperatorCodes(b, cv); M.ModelAddSubgraphs(b, sgv)
    M.ModelAddDescription(b, desc); M.ModelAddBuffers(b, bv)
    b.Finish(M.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def run(model, feeds):
    it = Interpreter(model_content=model)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), feeds):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def save_case(name, model, feeds):
    outs = run(model, feeds)
    d = os.path.join(HERE, "ops", name)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, "model.tflite"), "wb").write(model)
    for k, x in enumerate(feeds):
        np.save(os.path.join(d, f"input_{k}.npy"), x)
    for k, y in enumerate(outs):
        np.save(os.path.join(d, f"output_{k}.npy"), y)
    print(f"{name}: outputs {[y.shape for y in outs]}")


def f32(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def conv_opts(padding, sw, sh, act, dw=1, dh=1):
    def f(b):
        Conv.Conv2DOptionsStart(b); Conv.Conv2DOptionsAddPadding(b, padding)
        Conv.Conv2DOptionsAddStrideW(b, sw); Conv.Conv2DOptionsAddStrideH(b, sh)
        Conv.Conv2DOptionsAddFusedActivationFunction(b, act)
        Conv.Conv2DOptionsAddDilationWFactor(b, dw); Conv.Conv2DOptionsAddDilationHFactor(b, dh)
        return Conv.Conv2DOptionsEnd(b)
    return f


def conv_op(x, w, bias, out, padding=0, s=(1, 1), act=0, d=(1, 1)):
    return (OPS.CONV_2D, [x, w, bias], [out], OPT.Conv2DOptions, conv_opts(padding, s[1], s[0], act, d[1], d[0]))


SAME, VALID = 0, 1
NONE, RELU, RELU_N1, RELU6, TANH = 0, 1, 2, 3, 4


def conv_case(name, xs, ws, padding, s, act, d=(1, 1), fp16=False):
    x = f32(*xs)
    w = f32(*ws, scale=0.3)
    bias = f32(ws[0], scale=0.1)
    out_h = (xs[1] + s[0] - 1) // s[0] if padding == SAME else (xs[1] - (ws[1] - 1) * d[0] - 1) // s[0] + 1
    out_w = (xs[2] + s[1] - 1) // s[1] if padding == SAME else (xs[2] - (ws[2] - 1) * d[1] - 1) // s[1] + 1
    tensors = [("x", xs, np.float32, None), ("w", ws, np.float32, w), ("b", [ws[0]], np.float32, bias),
               ("y", [1, out_h, out_w, ws[0]], np.float32, None)]
    ops = [conv_op(0, 1, 2, 3, padding, s, act, d)]
    if fp16:
        tensors[1] = ("w16", ws, np.float16, w.astype(np.float16))
        tensors.append(("w", ws, np.float32, None))
        ops = [(OPS.DEQUANTIZE, [1], [4], 0, None), conv_op(0, 4, 2, 3, padding, s, act, d)]
    save_case(name, build(tensors, ops, [0], [3]), [x])


def depthwise_case(name, xs, mult, k, padding, s, act):
    c = xs[3]
    x, w, bias = f32(*xs), f32(1, k, k, c * mult, scale=0.3), f32(c * mult, scale=0.1)
    oh, ow = ((xs[1] + s - 1) // s, (xs[2] + s - 1) // s) if padding == SAME else ((xs[1] - k) // s + 1, (xs[2] - k) // s + 1)

    def opts(b):
        DW.DepthwiseConv2DOptionsStart(b); DW.DepthwiseConv2DOptionsAddPadding(b, padding)
        DW.DepthwiseConv2DOptionsAddStrideW(b, s); DW.DepthwiseConv2DOptionsAddStrideH(b, s)
        DW.DepthwiseConv2DOptionsAddDepthMultiplier(b, mult); DW.DepthwiseConv2DOptionsAddFusedActivationFunction(b, act)
        return DW.DepthwiseConv2DOptionsEnd(b)
    tensors = [("x", xs, np.float32, None), ("w", [1, k, k, c * mult], np.float32, w), ("b", [c * mult], np.float32, bias),
               ("y", [1, oh, ow, c * mult], np.float32, None)]
    save_case(name, build(tensors, [(OPS.DEPTHWISE_CONV_2D, [0, 1, 2], [3], OPT.DepthwiseConv2DOptions, opts)], [0], [3]), [x])


def transpose_conv_case(name, xs, ws, out_hw, padding, s):
    x, w, bias = f32(*xs), f32(*ws, scale=0.3), f32(ws[0], scale=0.1)
    shape = np.array([1, out_hw[0], out_hw[1], ws[0]], dtype=np.int32)

    def opts(b):
        TC.TransposeConvOptionsStart(b); TC.TransposeConvOptionsAddPadding(b, padding)
        TC.TransposeConvOptionsAddStrideW(b, s); TC.TransposeConvOptionsAddStrideH(b, s)
        return TC.TransposeConvOptionsEnd(b)
    tensors = [("shape", [4], np.int32, shape), ("w", ws, np.float32, w), ("x", xs, np.float32, None),
               ("b", [ws[0]], np.float32, bias), ("y", list(shape), np.float32, None)]
    save_case(name, build(tensors, [(OPS.TRANSPOSE_CONV, [0, 1, 2, 3], [4], OPT.TransposeConvOptions, opts)], [2], [4]), [x])


def pool_case(name, code, xs, k, s, padding, act=NONE):
    x = f32(*xs)
    oh, ow = ((xs[1] + s - 1) // s, (xs[2] + s - 1) // s) if padding == SAME else ((xs[1] - k) // s + 1, (xs[2] - k) // s + 1)

    def opts(b):
        Pool.Pool2DOptionsStart(b); Pool.Pool2DOptionsAddPadding(b, padding)
        Pool.Pool2DOptionsAddStrideW(b, s); Pool.Pool2DOptionsAddStrideH(b, s)
        Pool.Pool2DOptionsAddFilterWidth(b, k); Pool.Pool2DOptionsAddFilterHeight(b, k)
        Pool.Pool2DOptionsAddFusedActivationFunction(b, act)
        return Pool.Pool2DOptionsEnd(b)
    tensors = [("x", xs, np.float32, None), ("y", [1, oh, ow, xs[3]], np.float32, None)]
    save_case(name, build(tensors, [(code, [0], [1], OPT.Pool2DOptions, opts)], [0], [1]), [x])


def after_conv(name, xs, cout, tail_tensors, tail_ops, out_index):
    """A 1x1 convolution (so the tail operator sees a channels-first value) followed by the tail operators.
    Tensors 0 (x), 1 (w), 2 (b), 3 (conv output) come first; the tail's tensors are numbered from 4."""
    x = f32(*xs)
    tensors = [("x", xs, np.float32, None), ("w", [cout, 1, 1, xs[3]], np.float32, f32(cout, 1, 1, xs[3], scale=0.5)),
               ("b", [cout], np.float32, f32(cout, scale=0.1)), ("c", [1, xs[1], xs[2], cout], np.float32, None)] + tail_tensors
    save_case(name, build(tensors, [conv_op(0, 1, 2, 3)] + tail_ops, [0], [out_index]), [x])


def make_ops():
    conv_case("conv_same_relu", [1, 9, 11, 4], [6, 3, 3, 4], SAME, (1, 1), RELU)
    conv_case("conv_same_stride2_even_relu6", [1, 10, 12, 3], [5, 3, 3, 3], SAME, (2, 2), RELU6)
    conv_case("conv_valid_dilation2", [1, 13, 12, 3], [4, 3, 3, 3], VALID, (1, 1), NONE, d=(2, 2))
    conv_case("conv_valid_stride_hw", [1, 13, 12, 2], [3, 5, 3, 2], VALID, (2, 3), RELU_N1)
    conv_case("conv_same_5x5_tanh", [1, 7, 7, 2], [3, 5, 5, 2], SAME, (1, 1), TANH)
    conv_case("conv_fp16_weights", [1, 6, 6, 3], [4, 3, 3, 3], SAME, (1, 1), RELU, fp16=True)
    depthwise_case("depthwise_same_stride2_mult2", [1, 8, 9, 3], 2, 3, SAME, 2, RELU6)
    depthwise_case("depthwise_valid_5x5", [1, 9, 9, 4], 1, 5, VALID, 1, NONE)
    transpose_conv_case("transpose_conv_same_stride2", [1, 5, 5, 4], [3, 3, 3, 4], (10, 10), SAME, 2)
    transpose_conv_case("transpose_conv_valid_stride2", [1, 4, 5, 2], [3, 3, 3, 2], (9, 11), VALID, 2)
    transpose_conv_case("transpose_conv_same_stride2_k4", [1, 3, 4, 2], [2, 4, 4, 2], (6, 8), SAME, 2)
    pool_case("maxpool_same_3x3_stride2", OPS.MAX_POOL_2D, [1, 7, 8, 2], 3, 2, SAME)
    pool_case("avgpool_same_3x3_stride2", OPS.AVERAGE_POOL_2D, [1, 8, 7, 3], 3, 2, SAME)
    pool_case("avgpool_valid_2x2_relu", OPS.AVERAGE_POOL_2D, [1, 6, 6, 2], 2, 2, VALID, RELU)

    # fully connected on a 4-D (channels-first inside ConvKit) value: the flatten order must be NHWC's
    def fc_opts(act):
        def f(b):
            FC.FullyConnectedOptionsStart(b); FC.FullyConnectedOptionsAddFusedActivationFunction(b, act)
            return FC.FullyConnectedOptionsEnd(b)
        return f
    after_conv("conv_then_fully_connected", [1, 3, 4, 2], 5,
               [("fw", [7, 60], np.float32, f32(7, 60, scale=0.2)), ("fb", [7], np.float32, f32(7, scale=0.1)),
                ("y", [1, 7], np.float32, None)],
               [(OPS.FULLY_CONNECTED, [3, 4, 5], [6], OPT.FullyConnectedOptions, fc_opts(RELU))], 6)

    def add_opts(b, act=RELU):
        AddO.AddOptionsStart(b); AddO.AddOptionsAddFusedActivationFunction(b, act); return AddO.AddOptionsEnd(b)
    after_conv("conv_add_channel_constant_relu", [1, 4, 5, 3], 3,
               [("k", [3], np.float32, f32(3)), ("y", [1, 4, 5, 3], np.float32, None)],
               [(OPS.ADD, [3, 4], [5], OPT.AddOptions, add_opts)], 5)

    def mul_opts(b):
        MulO.MulOptionsStart(b); MulO.MulOptionsAddFusedActivationFunction(b, NONE); return MulO.MulOptionsEnd(b)
    after_conv("conv_mul_row_constant", [1, 4, 5, 3], 3,
               [("k", [5, 1], np.float32, f32(5, 1)), ("y", [1, 4, 5, 3], np.float32, None)],
               [(OPS.MUL, [3, 4], [5], OPT.MulOptions, mul_opts)], 5)

    def sub_opts(b):
        SubO.SubOptionsStart(b); SubO.SubOptionsAddFusedActivationFunction(b, RELU6); return SubO.SubOptionsEnd(b)
    after_conv("conv_sub_scalar_relu6", [1, 3, 3, 2], 2,
               [("k", [1], np.float32, np.array([-1.5], np.float32)), ("y", [1, 3, 3, 2], np.float32, None)],
               [(OPS.SUB, [3, 4], [5], OPT.SubOptions, sub_opts)], 5)

    def concat_opts(axis):
        def f(b):
            CC.ConcatenationOptionsStart(b); CC.ConcatenationOptionsAddAxis(b, axis); return CC.ConcatenationOptionsEnd(b)
        return f
    for axis, name in [(3, "channels"), (1, "height"), (-2, "width")]:
        shape = [1, 4, 5, 3]
        shape2 = list(shape); shape2[axis] *= 2
        after_conv(f"conv_concat_{name}", [1, 4, 5, 2], 3,
                   [("y", shape2, np.float32, None)],
                   [(OPS.CONCATENATION, [3, 3], [4], OPT.ConcatenationOptions, concat_opts(axis))], 4)

    def reshape_opts(shape):
        def f(b):
            v = b.CreateNumpyVector(np.array(shape, dtype=np.int32))
            RS.ReshapeOptionsStart(b); RS.ReshapeOptionsAddNewShape(b, v); return RS.ReshapeOptionsEnd(b)
        return f
    after_conv("conv_reshape_anchors", [1, 4, 4, 2], 6,
               [("y", [1, 32, 3], np.float32, None)],
               [(OPS.RESHAPE, [3], [4], OPT.ReshapeOptions, reshape_opts([1, 32, 3]))], 4)

    for code, name in [(OPS.LOGISTIC, "logistic"), (OPS.TANH, "tanh"), (OPS.RELU6, "relu6"), (OPS.RELU, "relu"),
                       (OPS.HARD_SWISH, "hard_swish"), (OPS.RELU_N1_TO_1, "relu_n1_to_1")]:
        after_conv(f"conv_{name}", [1, 3, 4, 2], 3, [("y", [1, 3, 4, 3], np.float32, None)],
                   [(code, [3], [4], 0, None)], 4)

    def leaky(b):
        LR.LeakyReluOptionsStart(b); LR.LeakyReluOptionsAddAlpha(b, 0.15); return LR.LeakyReluOptionsEnd(b)
    after_conv("conv_leaky_relu", [1, 3, 4, 2], 3, [("y", [1, 3, 4, 3], np.float32, None)],
               [(OPS.LEAKY_RELU, [3], [4], OPT.LeakyReluOptions, leaky)], 4)
    after_conv("conv_prelu", [1, 3, 4, 2], 3, [("a", [1, 1, 3], np.float32, f32(1, 1, 3, scale=0.3)),
                                                ("y", [1, 3, 4, 3], np.float32, None)],
               [(OPS.PRELU, [3, 4], [5], 0, None)], 5)

    def softmax(beta):
        def f(b):
            SM.SoftmaxOptionsStart(b); SM.SoftmaxOptionsAddBeta(b, beta); return SM.SoftmaxOptionsEnd(b)
        return f
    after_conv("conv_softmax_beta", [1, 2, 3, 2], 5, [("y", [1, 2, 3, 5], np.float32, None)],
               [(OPS.SOFTMAX, [3], [4], OPT.SoftmaxOptions, softmax(0.7))], 4)
    x = f32(2, 10)
    save_case("softmax_2d", build([("x", [2, 10], np.float32, None), ("y", [2, 10], np.float32, None)],
                                  [(OPS.SOFTMAX, [0], [1], OPT.SoftmaxOptions, softmax(1.0))], [0], [1]), [x])

    pads = np.array([[0, 0], [1, 2], [0, 1], [0, 2]], dtype=np.int32)
    after_conv("conv_pad_channels", [1, 3, 4, 2], 3, [("p", [4, 2], np.int32, pads), ("y", [1, 6, 5, 5], np.float32, None)],
               [(OPS.PAD, [3, 4], [5], 0, None)], 5)
    after_conv("conv_padv2_value", [1, 3, 4, 2], 3,
               [("p", [4, 2], np.int32, pads), ("v", [1], np.float32, np.array([0.75], np.float32)),
                ("y", [1, 6, 5, 5], np.float32, None)],
               [(OPS.PADV2, [3, 4, 5], [6], 0, None)], 6)
    reflect = np.array([[0, 0], [2, 1], [1, 2], [0, 0]], dtype=np.int32)

    def mirror(b):
        MP.MirrorPadOptionsStart(b); MP.MirrorPadOptionsAddMode(b, 0); return MP.MirrorPadOptionsEnd(b)
    after_conv("conv_mirror_pad_reflect", [1, 4, 5, 2], 3,
               [("p", [4, 2], np.int32, reflect), ("y", [1, 7, 8, 3], np.float32, None)],
               [(OPS.MIRROR_PAD, [3, 4], [5], OPT.MirrorPadOptions, mirror)], 5)

    def rb(align, half):
        def f(b):
            RB.ResizeBilinearOptionsStart(b); RB.ResizeBilinearOptionsAddAlignCorners(b, align)
            RB.ResizeBilinearOptionsAddHalfPixelCenters(b, half); return RB.ResizeBilinearOptionsEnd(b)
        return f

    def rn(align, half):
        def f(b):
            RN.ResizeNearestNeighborOptionsStart(b); RN.ResizeNearestNeighborOptionsAddAlignCorners(b, align)
            RN.ResizeNearestNeighborOptionsAddHalfPixelCenters(b, half); return RN.ResizeNearestNeighborOptionsEnd(b)
        return f
    size = np.array([9, 13], dtype=np.int32)
    for align, half, mode in [(False, False, "asymmetric"), (True, False, "align_corners"), (False, True, "half_pixel")]:
        after_conv(f"conv_resize_bilinear_{mode}", [1, 5, 7, 2], 2,
                   [("s", [2], np.int32, size), ("y", [1, 9, 13, 2], np.float32, None)],
                   [(OPS.RESIZE_BILINEAR, [3, 4], [5], OPT.ResizeBilinearOptions, rb(align, half))], 5)
        after_conv(f"conv_resize_nearest_{mode}", [1, 5, 7, 2], 2,
                   [("s", [2], np.int32, size), ("y", [1, 9, 13, 2], np.float32, None)],
                   [(OPS.RESIZE_NEAREST_NEIGHBOR, [3, 4], [5], OPT.ResizeNearestNeighborOptions, rn(align, half))], 5)

    def reducer(keep):
        def f(b):
            RD.ReducerOptionsStart(b); RD.ReducerOptionsAddKeepDims(b, keep); return RD.ReducerOptionsEnd(b)
        return f
    axes = np.array([1, 2], dtype=np.int32)
    after_conv("conv_mean_spatial", [1, 4, 5, 2], 6, [("a", [2], np.int32, axes), ("y", [1, 6], np.float32, None)],
               [(OPS.MEAN, [3, 4], [5], OPT.ReducerOptions, reducer(False))], 5)
    after_conv("conv_mean_spatial_keepdims", [1, 4, 5, 2], 6, [("a", [2], np.int32, axes), ("y", [1, 1, 1, 6], np.float32, None)],
               [(OPS.MEAN, [3, 4], [5], OPT.ReducerOptions, reducer(True))], 5)

    # two graph inputs, elementwise between a channels-first value and a declared one
    a, c = f32(1, 3, 4, 2), f32(1, 3, 4, 3)
    tensors = [("x", [1, 3, 4, 2], np.float32, None), ("w", [3, 1, 1, 2], np.float32, f32(3, 1, 1, 2)),
               ("b", [3], np.float32, f32(3)), ("c", [1, 3, 4, 3], np.float32, None), ("z", [1, 3, 4, 3], np.float32, None),
               ("y", [1, 3, 4, 3], np.float32, None)]
    save_case("conv_mul_second_input", build(tensors, [conv_op(0, 1, 2, 3), (OPS.MUL, [3, 4], [5], OPT.MulOptions, mul_opts)],
                                              [0, 4], [5]), [a, c])


def make_mediapipe():
    d = os.path.join(HERE, "mediapipe")
    os.makedirs(d, exist_ok=True)
    models = os.path.join(ROOT, "Data/models/mediapipe")
    # BlazeFace: astronaut 512x512 averaged over 4x4 blocks (rounded to uint8); model input = u8 / 127.5 - 1
    img = np.asarray(Image.open(os.path.join(ROOT, "Data/images/astronaut.png")).convert("RGB"), dtype=np.float64)
    small = np.rint(img.reshape(128, 4, 128, 4, 3).mean(axis=(1, 3))).astype(np.uint8)[None]
    np.save(os.path.join(d, "blazeface_input_u8.npy"), small)
    model = open(os.path.join(models, "face_detection_short_range.tflite"), "rb").read()
    it = Interpreter(model_content=model); it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], small.astype(np.float32) / 127.5 - 1)
    it.invoke()
    for o in it.get_output_details():
        np.save(os.path.join(d, f"blazeface_{o['name']}.npy"), it.get_tensor(o["index"]))
        print("blazeface", o["name"], it.get_tensor(o["index"]).shape)
    # Face mesh: a 192x192 crop around astronaut's face (box 140..300 x, 40..200 y, resized with Pillow bilinear);
    # model input = u8 / 255
    crop = Image.open(os.path.join(ROOT, "Data/images/astronaut.png")).convert("RGB").crop((140, 40, 300, 200))
    crop = np.asarray(crop.resize((192, 192), Image.BILINEAR), dtype=np.uint8)[None]
    np.save(os.path.join(d, "face_mesh_input_u8.npy"), crop)
    model = open(os.path.join(models, "face_landmark.tflite"), "rb").read()
    it = Interpreter(model_content=model); it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], crop.astype(np.float32) / 255)
    it.invoke()
    for o in it.get_output_details():
        np.save(os.path.join(d, f"face_mesh_{o['name']}.npy"), it.get_tensor(o["index"]))
        print("face mesh", o["name"], it.get_tensor(o["index"]).shape)




def make_malformed():
    """Well-formed flatbuffers with graphs the importer must refuse (no interpreter run)."""
    d = os.path.join(HERE, "malformed")
    os.makedirs(d, exist_ok=True)
    t = [("x", [1, 4], np.float32, None), ("y", [1, 4], np.float32, None), ("z", [1, 4], np.float32, None),
         ("u", [1, 4], np.float32, None)]
    # three operators, two of them outside the CNN set: the error lists both
    ops = [(OPS.LSTM, [0], [1], 0, None), (OPS.RELU, [1], [2], 0, None), (OPS.SKIP_GRAM, [2], [3], 0, None)]
    open(os.path.join(d, "two_unsupported.tflite"), "wb").write(build(t, ops, [0], [3]))
    # a tensor whose shape claims 2^48 elements
    t = [("x", [65536, 65536, 65536], np.float32, None), ("y", [1], np.float32, None)]
    open(os.path.join(d, "huge_shape.tflite"), "wb").write(build(t, [(OPS.RELU, [0], [1], 0, None)], [0], [1]))
    # a constant whose buffer is shorter than its shape
    t = [("x", [1, 4, 4, 2], np.float32, None), ("w", [3, 1, 1, 2], np.float32, np.zeros(2, np.float32)),
         ("b", [3], np.float32, np.zeros(3, np.float32)), ("y", [1, 4, 4, 3], np.float32, None)]
    open(os.path.join(d, "short_buffer.tflite"), "wb").write(build(t, [conv_op(0, 1, 2, 3)], [0], [3]))
    # an operator reading a tensor nobody writes
    t = [("x", [1, 4], np.float32, None), ("ghost", [1, 4], np.float32, None), ("y", [1, 4], np.float32, None)]
    open(os.path.join(d, "dangling_input.tflite"), "wb").write(build(t, [(OPS.ADD, [0, 1], [2], 0, None)], [0], [2]))
    # an operator index past the tensor list
    t = [("x", [1, 4], np.float32, None), ("y", [1, 4], np.float32, None)]
    open(os.path.join(d, "tensor_index_out_of_range.tflite"), "wb").write(build(t, [(OPS.RELU, [7], [1], 0, None)], [0], [1]))
    print("malformed:", sorted(os.listdir(d)))


if __name__ == "__main__":
    make_ops()
    make_mediapipe()
    make_malformed()
