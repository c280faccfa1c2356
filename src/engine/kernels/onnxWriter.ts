/**
 * A minimal ONNX writer: encodes a ModelProto (one graph, its nodes, raw-data initializers, typed inputs and
 * outputs) in the protobuf wire format by hand, following onnx.proto (proto2: repeated scalars unpacked).
 * Field numbers are onnx.proto's; only what an inference graph needs is covered.
 */

/** TensorProto.DataType values. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
export const ONNX_DOUBLE = 11;
export type OnnxElementType = typeof ONNX_FLOAT | typeof ONNX_INT64 | typeof ONNX_DOUBLE;

export interface OnnxTensor {
  name: string;
  type: OnnxElementType;
  dims: number[];
  /** Little-endian element bytes (float32 or int64), stored as raw_data. */
  raw: Uint8Array;
}

/** Integer attributes only (axis, perm, to, keepdims...): every constant goes in as an initializer. */
export type OnnxAttribute = number | number[];

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  /** A number is a fixed size, a string a named dynamic dimension ("batch"). */
  shape: Array<number | string>;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModelInfo {
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
}

const VARINT = 0;
const LENGTH_DELIMITED = 2;

// AttributeProto.AttributeType
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

/** Protobuf message under construction: a list of byte chunks (large raw tensors are not copied until the end). */
class Message {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  varint(field: number, value: number): this {
    this.push(encodeVarint((field << 3) | VARINT));
    this.push(encodeVarint(value));
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.push(encodeVarint((field << 3) | LENGTH_DELIMITED));
    this.push(encodeVarint(value.length));
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, value: Message): this {
    this.push(encodeVarint((field << 3) | LENGTH_DELIMITED));
    this.push(encodeVarint(value.length));
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }
}

/** Base-128 varint; negative integers as 64-bit two's complement (ten bytes), as protobuf encodes int64. */
function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new Error(`onnx writer: ${value} is not an integer`);
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return Uint8Array.from(bytes);
}

function tensorProto(tensor: OnnxTensor): Message {
  const message = new Message();
  for (const dim of tensor.dims) message.varint(1, dim);
  message.varint(2, tensor.type).string(8, tensor.name).bytes(9, tensor.raw);
  return message;
}

function attributeProto(name: string, value: OnnxAttribute): Message {
  const message = new Message().string(1, name);
  if (Array.isArray(value)) {
    for (const item of value) message.varint(8, item);
    return message.varint(20, ATTRIBUTE_INTS);
  }
  return message.varint(3, value).varint(20, ATTRIBUTE_INT);
}

function nodeProto(node: OnnxNode): Message {
  const message = new Message();
  for (const input of node.inputs) message.string(1, input);
  for (const output of node.outputs) message.string(2, output);
  message.string(3, node.name).string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes ?? {})) message.message(5, attributeProto(name, value));
  return message;
}

function valueInfoProto(info: OnnxValueInfo): Message {
  const shape = new Message();
  for (const dim of info.shape) {
    shape.message(1, typeof dim === 'number' ? new Message().varint(1, dim) : new Message().string(2, dim));
  }
  const tensorType = new Message().varint(1, info.type).message(2, shape);
  return new Message().string(1, info.name).message(2, new Message().message(1, tensorType));
}

function graphProto(graph: OnnxGraph): Message {
  const message = new Message();
  for (const node of graph.nodes) message.message(1, nodeProto(node));
  message.string(2, graph.name);
  for (const tensor of graph.initializers) message.message(5, tensorProto(tensor));
  for (const input of graph.inputs) message.message(11, valueInfoProto(input));
  for (const output of graph.outputs) message.message(12, valueInfoProto(output));
  return message;
}

/** The serialised ModelProto (the bytes of a .onnx file). */
export function encodeOnnxModel(graph: OnnxGraph, info: OnnxModelInfo): Buffer {
  const model = new Message()
    .varint(1, info.irVersion)
    .string(2, info.producerName)
    .string(3, info.producerVersion)
    .message(7, graphProto(graph))
    .message(8, new Message().string(1, '').varint(2, info.opset));
  return Buffer.concat(model.chunks, model.length);
}
