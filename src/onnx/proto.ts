// The part of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that an exporter writes, as a
// protobufjs reflection definition: message and field names and numbers exactly as in onnx.proto,
// so that every ONNX reader decodes the bytes. protobufjs does the wire encoding (varints, packed
// repeated fields, length-delimited messages); nothing here is read from disk at run time.
// protobufjs rather than onnx-proto: onnx-proto is generated code for an older onnx.proto on top
// of protobufjs 6, while protobufjs itself is current, typed, and runs unchanged in browsers.
import protobuf from 'protobufjs';

/** ONNX's TensorProto.DataType values for the element types written here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type ElemType = keyof typeof DataType;

/** AttributeProto.AttributeType values. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;

/** IR version 8 is the one that goes with opsets 15–18 (onnx/docs/Versioning.md). */
export const IR_VERSION = 8;

const f = (id: number, type: string, rule?: 'repeated') => (rule ? { id, type, rule } : { id, type });

const schema = {
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: f(1, 'int64'), opset_import: f(8, 'OperatorSetIdProto', 'repeated'),
            producer_name: f(2, 'string'), producer_version: f(3, 'string'), domain: f(4, 'string'),
            model_version: f(5, 'int64'), doc_string: f(6, 'string'), graph: f(7, 'GraphProto'),
            metadata_props: f(14, 'StringStringEntryProto', 'repeated'),
          },
        },
        OperatorSetIdProto: { fields: { domain: f(1, 'string'), version: f(2, 'int64') } },
        StringStringEntryProto: { fields: { key: f(1, 'string'), value: f(2, 'string') } },
        GraphProto: {
          fields: {
            node: f(1, 'NodeProto', 'repeated'), name: f(2, 'string'), initializer: f(5, 'TensorProto', 'repeated'),
            doc_string: f(10, 'string'), input: f(11, 'ValueInfoProto', 'repeated'),
            output: f(12, 'ValueInfoProto', 'repeated'), value_info: f(13, 'ValueInfoProto', 'repeated'),
          },
        },
        NodeProto: {
          fields: {
            input: f(1, 'string', 'repeated'), output: f(2, 'string', 'repeated'), name: f(3, 'string'),
            op_type: f(4, 'string'), attribute: f(5, 'AttributeProto', 'repeated'), doc_string: f(6, 'string'),
            domain: f(7, 'string'),
          },
        },
        AttributeProto: {
          fields: {
            name: f(1, 'string'), type: f(20, 'int32'), f: f(2, 'float'), i: f(3, 'int64'), s: f(4, 'bytes'),
            t: f(5, 'TensorProto'), floats: f(7, 'float', 'repeated'), ints: f(8, 'int64', 'repeated'),
          },
        },
        TensorProto: {
          fields: {
            dims: f(1, 'int64', 'repeated'), data_type: f(2, 'int32'), name: f(8, 'string'),
            raw_data: f(9, 'bytes'), doc_string: f(12, 'string'),
          },
        },
        ValueInfoProto: { fields: { name: f(1, 'string'), type: f(2, 'TypeProto'), doc_string: f(3, 'string') } },
        TypeProto: {
          fields: { tensor_type: f(1, 'TypeProto.Tensor') },
          nested: { Tensor: { fields: { elem_type: f(1, 'int32'), shape: f(2, 'TensorShapeProto') } } },
        },
        TensorShapeProto: {
          fields: { dim: f(1, 'TensorShapeProto.Dimension', 'repeated') },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: { dim_value: f(1, 'int64'), dim_param: f(2, 'string') },
            },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
const ModelProto = root.lookupType('onnx.ModelProto');

// Plain objects with onnx.proto's field names; protobufjs checks them against the schema.
export interface TensorProto { name: string; dims: number[]; data_type: number; raw_data: Uint8Array }
export interface AttributeProto {
  name: string; type: number; f?: number; i?: number; s?: Uint8Array; t?: TensorProto; floats?: number[]; ints?: number[];
}
export interface NodeProto { name: string; op_type: string; input: string[]; output: string[]; attribute: AttributeProto[] }
export interface ValueInfoProto {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}
export interface GraphProto {
  name: string; node: NodeProto[]; initializer: TensorProto[]; input: ValueInfoProto[]; output: ValueInfoProto[]; doc_string?: string;
}
export interface ModelProtoObject {
  ir_version: number; opset_import: { domain: string; version: number }[]; producer_name: string; producer_version: string;
  doc_string?: string; graph: GraphProto; metadata_props?: { key: string; value: string }[];
}

/** The wire bytes of a ModelProto (a .onnx file). */
export function encodeModel(model: ModelProtoObject): Uint8Array {
  const problem = ModelProto.verify(model);
  if (problem) throw new Error(`onnx.encodeModel: the model does not fit onnx.proto (${problem})`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decode .onnx bytes back into plain objects (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): Record<string, any> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: Array, defaults: false });
}
