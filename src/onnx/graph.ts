// A small ONNX graph builder: named values, nodes in the order they run, initializers from tsgrad
// tensors, deduplicated constants. The exporters (transformers.ts, sequential.ts) describe a model's
// forward pass with it from the model's config and its named parameters; no autograd is involved.
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import {
  AttributeType, DataType, IR_VERSION, encodeModel,
  type AttributeProto, type ElemType, type NodeProto, type TensorProto, type ValueInfoProto,
} from './proto.js';

/** The opset every exported graph declares (LayerNormalization needs ≥ 17). */
export const OPSET = 17;

/** An attribute value, tagged with its ONNX type: `int(1)`, `ints([0, 2, 1, 3])`, `float(1e-5)`. */
export type Attr = { kind: 'int'; value: number } | { kind: 'ints'; value: number[] } | { kind: 'float'; value: number } | { kind: 'tensor'; value: TensorProto };
export const int = (value: number): Attr => ({ kind: 'int', value });
export const ints = (value: number[]): Attr => ({ kind: 'ints', value });
export const float = (value: number): Attr => ({ kind: 'float', value });

/** A dimension: a fixed size, or a name for a size given at run time (`'batch'`, `'sequence'`). */
export type Dim = number | string;

function rawBytes(values: ArrayLike<number>, type: ElemType): Uint8Array {
  const n = values.length;
  if (type === 'FLOAT') return new Uint8Array(Float32Array.from(values).buffer);
  if (type === 'INT64') return new Uint8Array(BigInt64Array.from(Array.from(values, (v) => BigInt(v))).buffer);
  if (type === 'INT32') return new Uint8Array(Int32Array.from(values).buffer);
  return Uint8Array.from({ length: n }, (_, i) => (values[i] ? 1 : 0)); // BOOL: one byte each
}

/** A TensorProto with little-endian raw data (the layout ONNX stores, and this machine's). */
export function tensorProto(name: string, values: ArrayLike<number>, dims: readonly number[], type: ElemType): TensorProto {
  return { name, dims: [...dims], data_type: DataType[type], raw_data: rawBytes(values, type) };
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: DataType[type], shape: { dim } } } };
}

function attribute(name: string, a: Attr): AttributeProto {
  switch (a.kind) {
    case 'int': return { name, type: AttributeType.INT, i: a.value };
    case 'ints': return { name, type: AttributeType.INTS, ints: a.value };
    case 'float': return { name, type: AttributeType.FLOAT, f: a.value };
    case 'tensor': return { name, type: AttributeType.TENSOR, t: a.value };
  }
}

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  private readonly names = new Set<string>();
  private readonly constants = new Map<string, string>();
  /** Parameters already stored, by their data buffer: a tied weight (two stateDict names) is stored once. */
  private readonly weightsByData = new Map<unknown, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private fresh(hint: string): string {
    let name = `${hint}_${this.counter++}`;
    while (this.names.has(name)) name = `${hint}_${this.counter++}`;
    this.names.add(name);
    return name;
  }

  /** Declare a graph input. */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Declare the value `value` as a graph output named `name` (an Identity when the names differ). */
  output(value: string, name: string, type: ElemType, dims: readonly Dim[]): void {
    if (value !== name) this.node('Identity', [value], {}, { output: name });
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A model parameter as a float32 initializer (float64 ones rounded) named as in the stateDict (a tied one: its first name). */
  weight(name: string, t: Tensor): string {
    const stored = this.weightsByData.get(t.data);
    if (stored) return stored;
    if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new Error(`onnx.weight: parameter '${name}' has dtype ${t.dtype}, expected a float tensor`);
    this.names.add(name);
    this.initializers.push(tensorProto(name, t.data, t.shape, 'FLOAT'));
    this.weightsByData.set(t.data, name);
    return name;
  }

  /** A constant initializer, shared by every node that uses the same values. Scalars have dims []. */
  constant(values: number | number[], type: ElemType = 'FLOAT', dims?: number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
    const key = `${type}:${fmt(shape)}:${list.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const name = this.fresh(`const_${type.toLowerCase()}`);
    this.initializers.push(tensorProto(name, list, shape, type));
    this.constants.set(key, name);
    return name;
  }

  /** Append a node; returns its output's name (an empty input name is an omitted optional input). */
  node(op: string, inputs: string[], attrs: Record<string, Attr> = {}, { output }: { output?: string } = {}): string {
    const out = output ?? this.fresh(op);
    this.names.add(out);
    this.push(op, inputs, [out], attrs);
    return out;
  }

  /** A node with several outputs (Split). */
  nodeN(op: string, inputs: string[], count: number, attrs: Record<string, Attr> = {}): string[] {
    const outs = Array.from({ length: count }, () => this.fresh(op));
    this.push(op, inputs, outs, attrs);
    return outs;
  }

  private push(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr>): void {
    for (const i of inputs) if (i !== '' && !this.names.has(i)) throw new Error(`onnx.node: ${op} reads '${i}', which no earlier node, input or initializer defines`);
    this.nodes.push({
      name: `${op}_${this.nodes.length}`, op_type: op, input: inputs, output: outputs,
      attribute: Object.entries(attrs).map(([n, a]) => attribute(n, a)),
    });
  }

  /** How many nodes of each op the graph has. */
  opCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const n of this.nodes) counts[n.op_type] = (counts[n.op_type] ?? 0) + 1;
    return counts;
  }

  /** The .onnx bytes: one graph, the default domain at OPSET. */
  encode({ docString = '', metadata = {} }: { docString?: string; metadata?: Record<string, string> } = {}): Uint8Array {
    return encodeModel({
      ir_version: IR_VERSION,
      opset_import: [{ domain: '', version: OPSET }],
      producer_name: 'tsgrad',
      producer_version: '0.1.0',
      doc_string: docString,
      graph: { name: this.name, node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
      metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }
}
