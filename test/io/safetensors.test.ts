// The safetensors format in memory: round trips, the exact bytes of a known file, F16/BF16/I64
// files made by hand, and corrupt or hostile files, each refused with an error naming the problem.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { Tensor, DType } from '../../src/index.js';
import { serialize, deserialize, readHeaderLength, MAX_HEADER_BYTES } from '../../src/io/safetensors.js';
import { halfToFloat32, bfloat16ToFloat32 } from '../../src/io/half.js';

/** A file from a header object (or raw header text) and data bytes, the header padded to 8 bytes. */
function craft(header: unknown, data: number[] | Uint8Array = [], headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded + data.length).fill(0x20, 8 + json.length, 8 + padded);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(padded), true);
  out.set(json, 8);
  out.set(data, 8 + padded);
  return out;
}

/** Little-endian bytes of 16-bit words. */
const words16 = (bits: number[]) => bits.flatMap((b) => [b & 0xff, b >> 8]);

/** Tensors equal bit for bit: dtype, shape and raw bytes (so NaN and -0 count too). */
function expectSameTensor(actual: Tensor, expected: Tensor): void {
  expect(actual.dtype).to.equal(expected.dtype);
  expect([...actual.shape]).to.deep.equal([...expected.shape]);
  const bytes = (t: Tensor) => [...new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)];
  expect(bytes(actual)).to.deep.equal(bytes(expected));
}

const expectRefused = (bytes: Uint8Array, ...parts: string[]) => {
  expect(() => deserialize(bytes, '/x/model.safetensors')).to.throw(Error, 'deserialize: /x/model.safetensors: ');
  for (const part of parts) expect(() => deserialize(bytes, '/x/model.safetensors')).to.throw(part);
};

describe('io: safetensors format', () => {
  describe('round trips', () => {
    const shapes = [[], [0], [2, 0, 3], [5], [2, 3, 4]];
    for (const dtype of ['float32', 'float64', 'int32', 'bool'] as DType[]) {
      for (const shape of shapes) {
        it(`${dtype} ${JSON.stringify(shape)}`, () => {
          const t = dtype === 'bool' ? tg.randn(shape).gt(0) : tg.randn(shape, { dtype: 'float64' }).mul(100).to(dtype);
          const { tensors } = deserialize(serialize({ t }));
          expectSameTensor(tensors.t, t);
        });
      }
    }

    it('any state dict, with NaN, ±inf, -0 and odd names (property)', () => {
      const values = fc.oneof(fc.double(), fc.constantFrom(NaN, -0, Infinity, -Infinity));
      const entry = fc.tuple(fc.constantFrom<DType>('float32', 'float64', 'int32', 'bool'), fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }), fc.array(values, { minLength: 27, maxLength: 27 }));
      const names = fc.string({ unit: 'binary' }).filter((s) => s !== '__metadata__'); // any code points, no lone surrogates
      fc.assert(
        fc.property(fc.dictionary(names, entry, { maxKeys: 5 }), fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' })), (spec, metadata) => {
          const dict: Record<string, Tensor> = {};
          for (const [name, [dtype, shape, vals]] of Object.entries(spec)) {
            const size = shape.reduce((a, b) => a * b, 1);
            Object.defineProperty(dict, name, { value: tg.tensor(Float64Array.from(vals.slice(0, size)), { shape, dtype }), enumerable: true });
          }
          const back = deserialize(serialize(dict, metadata));
          expect(Object.keys(back.tensors).sort()).to.deep.equal(Object.keys(dict).sort());
          for (const name of Object.keys(dict)) expectSameTensor(back.tensors[name], dict[name]);
          expect(back.metadata).to.deep.equal(metadata);
        }),
        { numRuns: 200 },
      );
    });

    it('reads from a Node Buffer at an odd offset, into arrays of its own', () => {
      const bytes = serialize({ w: tg.tensor([1.5, -2]), d: tg.tensor([3], { dtype: 'float64' }) });
      const pool = Buffer.alloc(bytes.length + 3);
      pool.set(bytes, 3);
      const { tensors } = deserialize(pool.subarray(3));
      expect([...tensors.w.data, ...tensors.d.data]).to.deep.equal([1.5, -2, 3]);
      expect(tensors.w.data.buffer).not.to.equal(pool.buffer);
    });

    it('metadata round trip, and no __metadata__ written when there is none', () => {
      const metadata = { format: 'pt', step: '1200', 'naïve ✓': 'line\nbreak "quoted" 🙂' };
      expect(deserialize(serialize({ w: tg.ones([2]) }, metadata)).metadata).to.deep.equal(metadata);
      const plain = serialize({ w: tg.ones([2]) });
      expect(new TextDecoder().decode(plain)).not.to.contain('__metadata__');
      expect(deserialize(plain).metadata).to.deep.equal({});
    });

    it('an empty state dict', () => {
      const bytes = serialize({});
      expect([...bytes]).to.deep.equal([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20]); // "{}" + 6 spaces
      expect(deserialize(bytes).tensors).to.deep.equal({});
    });

    it('refuses what it cannot write', () => {
      expect(() => serialize({ w: [1, 2] as unknown as Tensor })).to.throw("serialize: 'w' is not a Tensor");
      expect(() => serialize({ __metadata__: tg.ones([1]) })).to.throw("'__metadata__' is reserved");
      expect(() => serialize({}, { step: 3 as unknown as string })).to.throw("metadata 'step' must be a string");
      expect(() => serialize({ ['w\uD800']: tg.ones([1]) })).to.throw('is not valid Unicode (a lone surrogate)');
      expect(() => serialize({}, { k: '\uDC00x' })).to.throw("metadata 'k' is not valid Unicode");
    });
  });

  it('writes a known file byte for byte (F64 first, then F32, I32, BOOL; names sorted within a dtype)', () => {
    const bytes = serialize(
      { b: tg.tensor([true, false, true]), n: tg.tensor([[-1]], { dtype: 'int32' }), a: tg.tensor([1, -2]), c: tg.tensor(0.5, { dtype: 'float64' }) },
      { format: 'pt' },
    );
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"c":{"dtype":"F64","shape":[],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"n":{"dtype":"I32","shape":[1,1],"data_offsets":[16,20]},' +
      '"b":{"dtype":"BOOL","shape":[3],"data_offsets":[20,23]}}';
    expect(json.length).to.equal(251); // + 5 spaces = 256 = 0x100, so the data starts at byte 264 = 8·33
    const expected = [
      ...[0x00, 0x01, 0, 0, 0, 0, 0, 0], // header length 256, little-endian u64
      ...[...json].map((ch) => ch.charCodeAt(0)),
      ...[0x20, 0x20, 0x20, 0x20, 0x20],
      ...[0, 0, 0, 0, 0, 0, 0xe0, 0x3f], // c = 0.5 as float64
      ...[0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0], // a = 1, -2 as float32
      ...[0xff, 0xff, 0xff, 0xff], // n = -1 as int32
      ...[1, 0, 1], // b
    ];
    expect(bytes.length).to.equal(287);
    expect([...bytes]).to.deep.equal(expected);
  });

  describe('16-bit floats and I64 from files made by hand', () => {
    it('F16: 1, -2, 65504, subnormals, smallest normal, ±inf, NaN, -0, 1/3', () => {
      const bits = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555];
      const { tensors } = deserialize(craft({ h: { dtype: 'F16', shape: [11], data_offsets: [0, 22] } }, words16(bits)));
      expect(tensors.h.dtype).to.equal('float32');
      const v = [...tensors.h.data];
      expect(v.slice(0, 8)).to.deep.equal([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 2 ** -14, Infinity, -Infinity]);
      expect(v[8]).to.be.NaN;
      expect(Object.is(v[9], -0)).to.equal(true);
      expect(v[10]).to.equal(0.333251953125);
    });

    it('F16 conversion is exact and monotone over all 63,490 finite bit patterns', () => {
      let previous = -Infinity;
      // -max … -0 (descending bit patterns), then +0 … +max
      const order = [...Array.from({ length: 0x7c00 }, (_, i) => 0xfbff - i), ...Array.from({ length: 0x7c00 }, (_, i) => i)];
      for (const b of order) {
        const x = halfToFloat32(b);
        expect(Math.fround(x)).to.equal(x); // representable in float32
        expect(x >= previous, `bits 0x${b.toString(16)}`).to.equal(true);
        previous = x;
      }
    });

    it('BF16: 1, -3.5, inf, NaN, the smallest subnormal 2^-133', () => {
      const { tensors } = deserialize(craft({ g: { dtype: 'BF16', shape: [5], data_offsets: [0, 10] } }, words16([0x3f80, 0xc060, 0x7f80, 0x7fc0, 0x0001])));
      const v = [...tensors.g.data];
      expect(v.slice(0, 3)).to.deep.equal([1, -3.5, Infinity]);
      expect(v[3]).to.be.NaN;
      expect(v[4]).to.equal(2 ** -133);
      expect(bfloat16ToFloat32(0x8000)).to.satisfy((x: number) => Object.is(x, -0));
    });

    it('I64 values that fit are read as int32; others are refused', () => {
      const i64 = (values: bigint[]) => {
        const data = new Uint8Array(8 * values.length);
        values.forEach((v, i) => new DataView(data.buffer).setBigInt64(8 * i, v, true));
        return craft({ position_ids: { dtype: 'I64', shape: [1, values.length], data_offsets: [0, data.length] } }, data);
      };
      const t = deserialize(i64([0n, 511n, -5n, 2147483647n, -2147483648n])).tensors.position_ids;
      expect(t.dtype).to.equal('int32');
      expect([...t.data]).to.deep.equal([0, 511, -5, 2147483647, -2147483648]);
      expectRefused(i64([1n, 2147483648n]), "tensor 'position_ids' (I64) holds 2147483648 at index 1, outside the int32 range");
      expectRefused(i64([-2147483649n]), 'holds -2147483649');
    });

    it('BOOL bytes other than 0 and 1 read as true', () => {
      expect([...deserialize(craft({ m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, [0, 7, 255])).tensors.m.data]).to.deep.equal([0, 1, 1]);
    });
  });

  describe('corrupt and hostile files are refused with the file and the problem named', () => {
    const f32 = (name: string, shape: unknown, offsets: unknown) => ({ [name]: { dtype: 'F32', shape, data_offsets: offsets } });
    const good = serialize({ w: tg.ones([3]), b: tg.zeros([2]) });

    it('a file shorter than 8 bytes', () => expectRefused(new Uint8Array(5), 'file is 5 bytes, too short'));
    it('a truncated file', () => expectRefused(good.subarray(0, good.length - 4), "tensor 'w' has data_offsets [8, 20] beyond the 16-byte data section"));
    it('a header length beyond the file', () => expectRefused(good.subarray(0, 30), 'header length 112 exceeds the 22 bytes after the length field'));
    it('a header length of 2^60, from the length check alone', () => expectRefused(craft({}, [], 2n ** 60n), 'header length 1152921504606846976 exceeds'));
    it('a header length of 2^64 - 1', () => expectRefused(craft({}, [], 2n ** 64n - 1n), 'header length 18446744073709551615 exceeds'));
    it('a header over 100 MB in a file big enough for it', () => {
      const first8 = new Uint8Array(8);
      new DataView(first8.buffer).setBigUint64(0, BigInt(MAX_HEADER_BYTES + 1), true);
      expect(() => readHeaderLength(first8, 2 * MAX_HEADER_BYTES, 'load: big')).to.throw('load: big: header length 100000001 exceeds the limit of 100000000 bytes');
    });
    it('a header that is not UTF-8', () => {
      const bytes = craft('{"ab":1}');
      bytes[10] = 0xff; // the 'a'
      expectRefused(bytes, 'header is not valid UTF-8');
    });
    it('invalid JSON', () => expectRefused(craft('{"w": {"dtype": "F32",', []), 'header is not valid JSON'));
    it('JSON that is not an object', () => {
      expectRefused(craft([1, 2]), 'header must be a JSON object, got an array');
      expectRefused(craft('null'), 'got null');
      expectRefused(craft('"str"'), 'got the string "str"');
    });
    it('an entry that is not an object', () => expectRefused(craft({ w: 3 }), "tensor 'w' must be an object {dtype, shape, data_offsets}, got number 3"));
    it('an unknown dtype, a missing one, one tsgrad does not read', () => {
      expectRefused(craft({ w: { dtype: 'F33', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), "tensor 'w' has unknown dtype 'F33'");
      expectRefused(craft({ w: { shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), "tensor 'w' has no string dtype");
      expectRefused(craft({ w: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, [0]), 'has dtype U8, which tsgrad does not read');
      expectRefused(craft({ w: { dtype: 'toString', shape: [1], data_offsets: [0, 4] } }, [0, 0, 0, 0]), "unknown dtype 'toString'");
    });
    it('negative, fractional, huge or non-numeric dims', () => {
      for (const shape of [[-1], [1.5], [2 ** 53], ['3'], [null], 3, undefined]) {
        expectRefused(craft(f32('w', shape, [0, 4]), [0, 0, 0, 0]), "tensor 'w' has");
      }
      expectRefused(craft(f32('w', [-1], [0, 4]), [0, 0, 0, 0]), 'shape [-1]: dims must be non-negative integers');
    });
    it('a shape whose size overflows is refused without allocating', () => {
      const max = Number.MAX_SAFE_INTEGER;
      expectRefused(craft(f32('w', [max, max, max], [0, 4]), [0, 0, 0, 0]), 'needs more than 2^53 bytes');
      expectRefused(craft(f32('w', [1e6, 1e6], [0, 4]), [0, 0, 0, 0]), 'needs 4000000000000 bytes');
    });
    it('malformed data_offsets', () => {
      for (const offsets of [[0], [0, 4, 8], [-4, 0], [0.5, 4], ['0', '4'], null, { begin: 0 }]) {
        expectRefused(craft(f32('w', [1], offsets), [0, 0, 0, 0]), "tensor 'w' has data_offsets");
      }
      expectRefused(craft(f32('w', [0], [4, 0]), [0, 0, 0, 0]), 'data_offsets [4, 0] with end before begin');
    });
    it('offsets beyond the data section', () => expectRefused(craft(f32('w', [3], [0, 12]), new Uint8Array(8)), "tensor 'w' has data_offsets [0, 12] beyond the 8-byte data section"));
    it('a shape that does not match its offsets', () => expectRefused(craft(f32('w', [3], [0, 10]), new Uint8Array(10)), "tensor 'w' has data_offsets [0, 10] but shape [3] × F32 needs 12 bytes"));
    it('overlapping tensors', () => {
      expectRefused(craft({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [4, 12]) }, new Uint8Array(12)), "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
      expectRefused(craft({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [0, 8]) }, new Uint8Array(8)), 'overlap');
    });
    it('bytes that belong to no tensor (a hole, or trailing bytes)', () => {
      expectRefused(craft({ ...f32('a', [1], [0, 4]), ...f32('b', [1], [8, 12]) }, new Uint8Array(12)), 'bytes [4, 8) of the data section belong to no tensor');
      expectRefused(craft(f32('a', [1], [0, 4]), new Uint8Array(6)), 'bytes [4, 6) of the data section belong to no tensor');
    });
    it('__metadata__ that is not an object of strings', () => {
      expectRefused(craft({ __metadata__: { step: 3 } }), "__metadata__ 'step' must be a string, got number 3");
      expectRefused(craft({ __metadata__: ['a'] }), '__metadata__ must be an object of strings, got an array');
      expect(deserialize(craft({ __metadata__: null })).metadata).to.deep.equal({});
    });
    it('a tensor named __proto__ stays a tensor, not a prototype', () => {
      const { tensors } = deserialize(craft('{"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', [0, 0, 0x80, 0x3f]));
      expect(Object.keys(tensors)).to.deep.equal(['__proto__']);
      expect(Object.getPrototypeOf(tensors)).to.equal(Object.prototype);
      expect([...Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data]).to.deep.equal([1]);
    });

    /** deserialize either succeeds or throws an Error that names the source, quickly. */
    const survives = (bytes: Uint8Array) => {
      const start = performance.now();
      try {
        deserialize(bytes, 'fuzz');
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('deserialize: fuzz: ')) throw e;
      }
      expect(performance.now() - start).to.be.below(1000);
    };
    it('random bytes never crash with anything but a clean Error (property)', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), survives), { numRuns: 2000 });
      // with a plausible length field, so the header parser sees the bytes
      fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (tail) => survives(craft('', tail, BigInt(tail.length)))), { numRuns: 1000 });
    });
    it('random JSON headers and mutated valid files never crash (property)', () => {
      fc.assert(fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 64 }), (header, data) => survives(craft(header, data))), { numRuns: 1000 });
      const entry = fc.record({ dtype: fc.constantFrom('F32', 'F64', 'I32', 'BOOL', 'F16', 'BF16', 'I64', 'X'), shape: fc.array(fc.integer({ min: -2, max: 9 }), { maxLength: 3 }), data_offsets: fc.array(fc.integer({ min: -2, max: 40 }), { minLength: 2, maxLength: 2 }) });
      fc.assert(fc.property(fc.dictionary(fc.constantFrom('a', 'b', 'c'), entry), fc.uint8Array({ maxLength: 48 }), (header, data) => survives(craft(header, data))), { numRuns: 2000 });
      fc.assert(
        fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: good.length }), (at, value, cut) => {
          const bytes = good.slice(0, cut);
          if (at < bytes.length) bytes[at] = value;
          survives(bytes);
        }),
        { numRuns: 2000 },
      );
    });
  });
});
