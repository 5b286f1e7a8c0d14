/**
 * A minimal ONNX ModelProto writer: one graph of one node, float32 inputs and outputs with fixed shapes. Enough to
 * hand onnxruntime a MatMul, Softmax, LayerNormalization or Conv without a Python exporter. Field numbers are
 * those of onnx/onnx.proto (IR version 8); the encoding is protobuf's wire format: a key (field << 3 | wire
 * type), then a varint (type 0) or a length-prefixed payload (type 2).
 */

type Bytes = number[];

function varint(value: number): Bytes {
  if (!Number.isInteger(value) || value < 0) throw new Error(`onnx-model: expected a non-negative integer; got ${value}`);
  const out: Bytes = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

const key = (field: number, wireType: 0 | 2) => varint(field * 8 + wireType);
const intField = (field: number, value: number): Bytes => [...key(field, 0), ...varint(value)];
const bytesField = (field: number, payload: Bytes): Bytes => [...key(field, 2), ...varint(payload.length), ...payload];
const stringField = (field: number, s: string): Bytes => bytesField(field, [...new TextEncoder().encode(s)]);

export interface ValueInfo {
  readonly name: string;
  readonly shape: readonly number[];
}

export type Attribute = { readonly name: string; readonly int: number } | { readonly name: string; readonly ints: readonly number[] };

export interface SingleNodeModel {
  readonly opType: string;
  readonly inputs: readonly ValueInfo[];
  readonly output: ValueInfo;
  readonly attributes?: readonly Attribute[];
  readonly opset: number;
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_INT = 2;
const ATTR_INTS = 7;

function valueInfo(v: ValueInfo): Bytes {
  const shape = v.shape.flatMap((d) => bytesField(1, intField(1, d))); // TensorShapeProto.dim { dim_value }
  const tensorType = [...intField(1, FLOAT), ...bytesField(2, shape)]; // TypeProto.Tensor { elem_type, shape }
  return [...stringField(1, v.name), ...bytesField(2, bytesField(1, tensorType))]; // ValueInfoProto { name, type }
}

function attribute(a: Attribute): Bytes {
  if ('int' in a) return [...stringField(1, a.name), ...intField(3, a.int), ...intField(20, ATTR_INT)];
  return [...stringField(1, a.name), ...a.ints.flatMap((i) => intField(8, i)), ...intField(20, ATTR_INTS)];
}

/** Serialise a model whose graph is `output = opType(inputs...)`. */
export function singleNodeModel(m: SingleNodeModel): Uint8Array {
  const node = [
    ...m.inputs.flatMap((i) => stringField(1, i.name)),
    ...stringField(2, m.output.name),
    ...stringField(3, 'node0'),
    ...stringField(4, m.opType),
    ...(m.attributes ?? []).flatMap((a) => bytesField(5, attribute(a))),
  ];
  const graph = [
    ...bytesField(1, node),
    ...stringField(2, 'bench'),
    ...m.inputs.flatMap((i) => bytesField(11, valueInfo(i))),
    ...bytesField(12, valueInfo(m.output)),
  ];
  const model = [
    ...intField(1, 8), // ir_version
    ...stringField(2, 'formers-bench'), // producer_name
    ...bytesField(7, graph),
    ...bytesField(8, [...stringField(1, ''), ...intField(2, m.opset)]), // opset_import { domain: '', version }
  ];
  return new Uint8Array(model);
}
