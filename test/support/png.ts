/**
 * Just enough PNG decoding to look at a browser's screenshot: 8-bit RGB or RGBA, not interlaced
 * (what Chromium writes). Returns the size and a luminance per pixel.
 */
import { inflateSync } from 'node:zlib';

export interface Grey {
  width: number;
  height: number;
  /** Luminance 0 (black) to 255 (white), row by row. */
  at(x: number, y: number): number;
}

function paeth(left: number, up: number, upLeft: number): number {
  const estimate = left + up - upLeft;
  const [toLeft, toUp, toUpLeft] = [Math.abs(estimate - left), Math.abs(estimate - up), Math.abs(estimate - upLeft)];
  if (toLeft <= toUp && toLeft <= toUpLeft) return left;
  return toUp <= toUpLeft ? up : upLeft;
}

export function decodePng(file: Buffer): Grey {
  if (!file.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))) throw new Error('not a PNG');
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let offset = 8; offset < file.length;) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    const body = file.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      [width, height] = [body.readUInt32BE(0), body.readUInt32BE(4)];
      const [bitDepth, colorType, interlace] = [body[8], body[9], body[12]];
      if (bitDepth !== 8 || (colorType !== 2 && colorType !== 6) || interlace !== 0) throw new Error(`unsupported PNG: depth ${bitDepth}, color type ${colorType}, interlace ${interlace}`);
      channels = colorType === 6 ? 4 : 3;
    } else if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y += 1) {
    const filter = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x += 1) {
      const value = raw[y * (stride + 1) + 1 + x] as number;
      const left = x >= channels ? pixels[y * stride + x - channels] as number : 0;
      const up = y > 0 ? pixels[(y - 1) * stride + x] as number : 0;
      const upLeft = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] as number : 0;
      const predicted = filter === 1 ? left : filter === 2 ? up : filter === 3 ? Math.floor((left + up) / 2) : filter === 4 ? paeth(left, up, upLeft) : 0;
      pixels[y * stride + x] = (value + predicted) & 0xff;
    }
  }
  return {
    width,
    height,
    at: (x, y) => {
      const index = y * stride + x * channels;
      return Math.round(0.2126 * (pixels[index] as number) + 0.7152 * (pixels[index + 1] as number) + 0.0722 * (pixels[index + 2] as number));
    },
  };
}
