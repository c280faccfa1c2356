/** Reading exported PNGs in tests: size and the top-left pixel, decoded with node's zlib. */
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';

export interface DecodedPng {
  width: number;
  height: number;
  /** RGBA of the top-left pixel. */
  corner: [number, number, number, number];
}

/**
 * The size and the top-left pixel of an 8-bit RGB or RGBA PNG. The first pixel of the first row is stored as is
 * whatever the row's filter (Sub, Up, Average and Paeth all add 0 there), so no unfiltering is needed.
 */
export function decodePng(bytes: Uint8Array): DecodedPng {
  const buffer = Buffer.from(bytes);
  assert.deepEqual([...buffer.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  let offset = 8;
  let width = 0;
  let height = 0;
  let colorType = -1;
  const idat: Buffer[] = [];
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    const data = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth');
      colorType = data[9];
    } else if (type === 'IDAT') idat.push(data);
    offset += 12 + length;
  }
  assert.ok(colorType === 2 || colorType === 6, `colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const pixel = [...raw.subarray(1, colorType === 6 ? 5 : 4)];
  return { width, height, corner: (colorType === 6 ? pixel : [...pixel, 255]) as DecodedPng['corner'] };
}
