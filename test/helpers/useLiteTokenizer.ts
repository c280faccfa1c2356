/**
 * Test reference: an independent reimplementation of the tokenizer the TF.js model was used with, to check the
 * tokenizer.json that src/models/useLiteOnnx.ts generates for transformers.js.
 * SentencePiece-style unigram tokenizer for the Universal Sentence Encoder lite vocabulary (vocab.json:
 * [piece, log-probability] pairs). It reproduces the tokenizer of @tensorflow-models/universal-sentence-encoder,
 * including its tie-breaking, so that token ids match what the TF.js model was used with:
 * - NFKC normalisation; every ' ' becomes '▁' and a '▁' is prepended (empty input stays empty);
 * - Viterbi search over the lattice of vocabulary pieces found with a trie (code point based);
 * - a position where no piece starts becomes one unknown token (id 0) of one code point;
 * - between equal scores the later candidate wins (the original compares with >=);
 * - consecutive unknown tokens are merged into one.
 */

export type UseLiteVocabulary = ReadonlyArray<readonly [string, number]>;

/** The first ids are the unknown token, control symbols and user-defined symbols: never produced by matching. */
const RESERVED_SYMBOLS = 6;
export const UNKNOWN_ID = 0;
const SEPARATOR = '\u2581';

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary id of the piece that ends here, or -1. */
  id: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1 };
}

function normaliseForUseLite(text: string): string {
  const normalised = text.normalize('NFKC');
  return normalised.length > 0 ? SEPARATOR + normalised.replace(/ /g, SEPARATOR) : normalised;
}

export class UseLiteTokenizer {
  private readonly root = newNode();
  private readonly scores: Float64Array;
  /** Piece length in code points, per id. */
  private readonly lengths: Int32Array;

  constructor(private readonly vocabulary: UseLiteVocabulary) {
    this.scores = new Float64Array(vocabulary.length);
    this.lengths = new Int32Array(vocabulary.length);
    this.lengths[UNKNOWN_ID] = 1;
    for (let id = RESERVED_SYMBOLS; id < vocabulary.length; id++) {
      const [piece, score] = vocabulary[id];
      let node = this.root;
      let length = 0;
      for (const symbol of piece) {
        let child = node.children.get(symbol);
        if (!child) {
          child = newNode();
          node.children.set(symbol, child);
        }
        node = child;
        length++;
      }
      node.id = id;
      this.scores[id] = score;
      this.lengths[id] = length;
    }
  }

  piece(id: number): string {
    return this.vocabulary[id][0];
  }

  encode(text: string): number[] {
    const symbols = Array.from(normaliseForUseLite(text));
    const n = symbols.length;
    // best[end] / bestId[end]: best score of a segmentation of symbols[0, end) and the id of its last piece.
    // A best of exactly 0 counts as "not reached yet", as in the original.
    const best = new Float64Array(n + 1);
    const bestId = new Int32Array(n + 1);
    // Candidates are visited by end position, then by ascending start position, as the original does.
    const startsByEnd: number[][][] = Array.from({ length: n + 1 }, () => []);
    for (let start = 0; start < n; start++) {
      let node = this.root.children.get(symbols[start]);
      let found = false;
      for (let end = start + 1; node && end <= n; end++) {
        if (node.id >= 0) {
          (startsByEnd[end][start] ??= []).push(node.id);
          found = true;
        }
        node = end < n ? node.children.get(symbols[end]) : undefined;
      }
      if (!found) (startsByEnd[start + 1][start] ??= []).push(UNKNOWN_ID);
    }
    for (let end = 1; end <= n; end++) {
      const byStart = startsByEnd[end];
      for (let start = 0; start < byStart.length; start++) {
        const ids = byStart[start];
        if (!ids) continue;
        for (const id of ids) {
          const score = this.scores[id] + best[start];
          if (best[end] === 0 || score >= best[end]) {
            best[end] = score;
            bestId[end] = id;
          }
        }
      }
    }
    const reversed: number[] = [];
    for (let end = n; end > 0; end -= this.lengths[bestId[end]]) reversed.push(bestId[end]);
    const ids: number[] = [];
    for (let i = reversed.length - 1; i >= 0; i--) {
      const id = reversed[i];
      if (id === UNKNOWN_ID && ids.length > 0 && ids[ids.length - 1] === UNKNOWN_ID) continue;
      ids.push(id);
    }
    return ids;
  }

  /** Sum of the pieces' scores: the quantity the segmentation maximises (unknown pieces score 0). */
  score(ids: readonly number[]): number {
    let total = 0;
    for (const id of ids) total += this.scores[id];
    return total;
  }
}
