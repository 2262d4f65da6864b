// tg.onnx: export tsgrad models to ONNX (opset 17), for ONNX Runtime and the tools that read ONNX.
export { exportModel, toOnnx, type ExportOptions, type ExportSummary } from './export.js';
export { GraphBuilder, OPSET } from './graph.js';
export { decodeModel } from './proto.js';
