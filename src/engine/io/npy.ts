/**
 * Reader and writer for NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
 * limited to what an embedding matrix is: a 2-D, C-ordered, little-endian float32 or float64 array.
 * Header versions 1.0, 2.0 and 3.0 are read; 1.0 is written.
 */
import { UserError } from '../errors';
import { firstNonFinite } from '../kernels/finite';
import { sharedFloat64 } from '../kernels/shared';

export interface NpyMatrix {
  rows: number;
  cols: number;
  /**
   * Row-major values in shared memory, in the stored precision: float32 files stay float32 (half the memory; every
   * reader widens a value exactly when it reads it), float64 files float64.
   */
  data: Float64Array | Float32Array;
  /** The dtype as stored: '<f4' or '<f8'. */
  dtype: '<f4' | '<f8';
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/**
 * Parses a .npy file's bytes. `file` is only used in error messages. Rejects (UserError) anything that is not a
 * finite 2-D float matrix, saying what is wrong and, for NaN/Inf, where.
 */
export function parseNpy(bytes: Uint8Array, file: string): NpyMatrix {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new UserError('not a .npy file (bad magic bytes; expected "\\x93NUMPY")', file);
  }
  const major = buf[6];
  const minor = buf[7];
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = buf.readUInt16LE(8);
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new UserError('truncated .npy file (header incomplete)', file);
    headerStart = 12;
    headerLength = buf.readUInt32LE(8);
  } else {
    throw new UserError(`unsupported .npy format version ${major}.${minor} (1.0, 2.0 and 3.0 are supported)`, file);
  }
  const dataStart = headerStart + headerLength;
  if (buf.length < dataStart) throw new UserError('truncated .npy file (header incomplete)', file);
  // Version 3.0 allows UTF-8 in the header; 1.0 and 2.0 are latin1. The keys we read are ASCII either way.
  const headerText = buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);
  const header = parseHeader(headerText, file);

  const descr = header.descr;
  if (typeof descr !== 'string') {
    throw new UserError('unsupported dtype (structured array); expected float32 or float64', file);
  }
  const itemSize = checkDtype(descr, file);
  if (header.fortran_order === true) {
    throw new UserError(
      'array is in Fortran (column-major) order; save it in C order, e.g. np.save(path, np.ascontiguousarray(a))',
      file,
    );
  }
  if (header.fortran_order !== false) throw new UserError('invalid .npy header (fortran_order is not a boolean)', file);
  const shape = header.shape;
  if (!Array.isArray(shape) || !shape.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0)) {
    throw new UserError('invalid .npy header (shape is not a tuple of non-negative integers)', file);
  }
  if (shape.length !== 2) {
    throw new UserError(`array is ${shape.length}-D with shape (${shape.join(', ')}); expected 2-D (queries x dimensions)`, file);
  }
  const [rows, cols] = shape as number[];
  if (cols === 0 && rows > 0) throw new UserError(`array has empty rows (shape (${rows}, 0))`, file);

  const expectedBytes = rows * cols * itemSize;
  const actualBytes = buf.length - dataStart;
  if (actualBytes < expectedBytes) {
    throw new UserError(
      `truncated .npy file: shape (${rows}, ${cols}) needs ${expectedBytes} data bytes, file has ${actualBytes}`,
      file,
    );
  }
  if (actualBytes > expectedBytes) {
    throw new UserError(
      `.npy file has ${actualBytes - expectedBytes} unexpected bytes after the data of shape (${rows}, ${cols})`,
      file,
    );
  }

  const data = readLittleEndian(buf.subarray(dataStart, dataStart + expectedBytes), itemSize);
  const bad = firstNonFinite(data);
  if (bad >= 0) {
    const row = Math.floor(bad / cols);
    throw new UserError(`array has a non-finite value (${data[bad]}) at row ${row}, column ${bad - row * cols} (0-based)`, file);
  }
  return { rows, cols, data, dtype: itemSize === 4 ? '<f4' : '<f8' };
}

/**
 * Encodes a row-major matrix as a version 1.0 .npy file of little-endian float32. Values are rounded to float32;
 * a value that does not fit float32 (overflow to Infinity) is an error.
 */
export function encodeNpyFloat32(rows: number, cols: number, data: ArrayLike<number>): Buffer {
  if (data.length !== rows * cols) throw new Error(`encodeNpyFloat32: ${data.length} values for shape (${rows}, ${cols})`);
  return encodeNpy(rows, cols, data instanceof Float32Array ? data : new Float32Array(data), '<f4');
}

/** Encodes a row-major matrix as a version 1.0 .npy file of little-endian float64 (exact). */
export function encodeNpyFloat64(rows: number, cols: number, data: ArrayLike<number>): Buffer {
  if (data.length !== rows * cols) throw new Error(`encodeNpyFloat64: ${data.length} values for shape (${rows}, ${cols})`);
  return encodeNpy(rows, cols, data instanceof Float64Array ? data : new Float64Array(data), '<f8');
}

function encodeNpy(rows: number, cols: number, values: Float32Array | Float64Array, descr: '<f4' | '<f8'): Buffer {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64 (numpy's alignment).
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const size = values.BYTES_PER_ELEMENT;
  const out = Buffer.alloc(10 + header.length + rows * cols * size);
  MAGIC.copy(out, 0);
  out[6] = 1;
  out[7] = 0;
  out.writeUInt16LE(header.length, 8);
  out.write(header, 10, 'latin1');
  const dataStart = 10 + header.length;
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), dataStart);
  } else {
    for (let i = 0; i < values.length; i++) {
      if (size === 4) out.writeFloatLE(values[i], dataStart + i * 4);
      else out.writeDoubleLE(values[i], dataStart + i * 8);
    }
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Little-endian float32/float64 bytes as float32/float64 values in shared memory (see shared.ts). Typed-array views
 * are native order, so on the (usual) little-endian host the bytes are copied straight into the result, or, when
 * they are in shared memory already at an aligned offset (a bundle's files: readRegularFile's `shared`), viewed
 * where they are.
 */
function readLittleEndian(bytes: Buffer, itemSize: 4 | 8): Float64Array | Float32Array {
  const count = bytes.length / itemSize;
  if (LITTLE_ENDIAN_HOST && bytes.buffer instanceof SharedArrayBuffer && bytes.byteOffset % itemSize === 0) {
    return itemSize === 4 ? new Float32Array(bytes.buffer, bytes.byteOffset, count) : new Float64Array(bytes.buffer, bytes.byteOffset, count);
  }
  if (itemSize === 4) {
    const data = new Float32Array(new SharedArrayBuffer(count * 4));
    if (LITTLE_ENDIAN_HOST) new Uint8Array(data.buffer).set(bytes);
    else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
    }
    return data;
  }
  const data = sharedFloat64(count);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(data.buffer).set(bytes);
    return data;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let i = 0; i < count; i++) data[i] = view.getFloat64(i * 8, true);
  return data;
}

/** Returns the item size in bytes of a supported dtype, or throws a UserError naming the problem. */
function checkDtype(descr: string, file: string): 4 | 8 {
  if (descr === '<f4') return 4;
  if (descr === '<f8') return 8;
  if (descr === '>f4' || descr === '>f8') {
    throw new UserError(
      `unsupported byte order: dtype '${descr}' is big-endian; save it little-endian, e.g. a.astype('<${descr.slice(2) === '4' ? 'f4' : 'f8'}')`,
      file,
    );
  }
  throw new UserError(`unsupported dtype '${descr}'; expected float32 ('<f4') or float64 ('<f8')`, file);
}

function parseHeader(text: string, file: string): Record<string, PyValue> {
  let value: PyValue;
  try {
    const parser = new PyLiteralParser(text);
    value = parser.parseValue();
    parser.expectEnd();
  } catch (error) {
    throw new UserError(`invalid .npy header (${(error as Error).message})`, file);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UserError('invalid .npy header (not a dictionary)', file);
  }
  return value;
}

/** The subset of Python literal syntax numpy writes in .npy headers: dicts, tuples, lists, strings, ints, bools. */
class PyLiteralParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseValue(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === '{') return this.parseDict();
    if (c === '(' || c === '[') return this.parseSequence(c === '(' ? ')' : ']');
    if (c === "'" || c === '"') return this.parseString();
    const word = /^(True|False|None|-?\d+L?)/.exec(this.text.slice(this.pos, this.pos + 32));
    if (!word) throw new Error(`unexpected character at offset ${this.pos}`);
    this.pos += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number.parseInt(word[0], 10);
  }

  expectEnd(): void {
    this.skipSpace();
    if (this.pos !== this.text.length) throw new Error(`unexpected text at offset ${this.pos}`);
  }

  private parseDict(): Record<string, PyValue> {
    const result: Record<string, PyValue> = {};
    this.pos++; // {
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return result;
      }
      const key = this.parseValue();
      if (typeof key !== 'string') throw new Error('dictionary key is not a string');
      this.expect(':');
      // Defined, not assigned: a key '__proto__' must stay a key (and be rejected as unknown), not a prototype.
      Object.defineProperty(result, key, { value: this.parseValue(), enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== '}') throw new Error(`expected ',' or '}' at offset ${this.pos}`);
    }
  }

  private parseSequence(close: string): PyValue[] {
    const items: PyValue[] = [];
    this.pos++; // ( or [
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.parseValue());
      this.skipSpace();
      if (this.text[this.pos] === ',') this.pos++;
      else if (this.text[this.pos] !== close) throw new Error(`expected ',' or '${close}' at offset ${this.pos}`);
    }
  }

  private parseString(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length && this.text[this.pos] !== quote) {
      if (this.text[this.pos] === '\\') this.pos++;
      out += this.text[this.pos++];
    }
    if (this.pos >= this.text.length) throw new Error('unterminated string');
    this.pos++;
    return out;
  }

  private expect(char: string): void {
    this.skipSpace();
    if (this.text[this.pos] !== char) throw new Error(`expected '${char}' at offset ${this.pos}`);
    this.pos++;
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }
}
