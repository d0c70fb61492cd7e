#!/usr/bin/env bash
# Regenerates Sources/ConvKitInterop/ONNX/Generated/onnx.pb.swift from the committed onnx.proto.
# Needs: a Python with grpcio-tools (for protoc) and swift-protobuf 1.39.0's protoc-gen-swift, built here once
# (a release build of the plugin takes ~10 minutes on 2 cores; that is why the output is committed).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${WORK:-/tmp/convkit-protogen}"
python="${PYTHON:-python3}"
mkdir -p "$work"
"$python" -c "import grpc_tools" 2>/dev/null || { "$python" -m venv "$work/venv"; "$work/venv/bin/pip" install -q grpcio-tools; python="$work/venv/bin/python"; }
if [ ! -x "$work/swift-protobuf/.build/release/protoc-gen-swift" ]; then
  rm -rf "$work/swift-protobuf"
  git clone -q https://github.com/apple/swift-protobuf "$work/swift-protobuf"
  git -C "$work/swift-protobuf" checkout -q 1.39.0
  (cd "$work/swift-protobuf" && swift build -c release --product protoc-gen-swift)
fi
proto="$repo/Sources/ConvKitInterop/ONNX/Proto"
"$python" -m grpc_tools.protoc --plugin=protoc-gen-swift="$work/swift-protobuf/.build/release/protoc-gen-swift" \
  --swift_out="$repo/Sources/ConvKitInterop/ONNX/Generated" --swift_opt=Visibility=Internal -I"$proto" "$proto/onnx.proto"
echo "wrote Sources/ConvKitInterop/ONNX/Generated/onnx.pb.swift"
