// tg.viz: pictures for learning. graph(t) draws the computation graph behind t (DOT and SVG).
export {
  graph, graphToDot, graphToSvg, writeGraph, toDot, toSvg,
  type GraphOptions, type ComputationGraph, type GraphNode, type TensorNode, type OpNode, type GraphEdge, type TensorRole,
} from './graph.js';
