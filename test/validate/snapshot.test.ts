// Option objects are read once into plain data; only the copy is used afterwards.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, InvalidArgumentError, UnrolledError } from '../../src/errors.js';
import { snapshot, snapshotObject } from '../../src/validate/index.js';

/** A Proxy that counts every trap call per property, and answers `later` after the first read. */
function counting<T extends object>(target: T, later?: Record<string, unknown>) {
  const gets = new Map<PropertyKey, number>();
  let ownKeys = 0;
  const proxy = new Proxy(target, {
    get(t, k, r) {
      const n = (gets.get(k) ?? 0) + 1;
      gets.set(k, n);
      if (n > 1 && later && typeof k === 'string' && k in later) return later[k];
      return Reflect.get(t, k, r);
    },
    ownKeys(t) {
      ownKeys++;
      return Reflect.ownKeys(t);
    },
  });
  return { proxy, gets, ownKeys: () => ownKeys };
}

describe('snapshot', () => {
  it('copies plain data deeply, typed arrays included', () => {
    const src = { a: 1, b: 'x', c: [1, { d: true }], e: new Float32Array([1, 2]), f: null, g: undefined };
    const copy = snapshot('o', src) as typeof src;
    expect(copy).toEqual(src);
    expect(copy.c).not.toBe(src.c);
    expect(copy.e).not.toBe(src.e);
    src.e[0] = 9;
    (src.c[1] as { d: boolean }).d = false;
    expect(copy.e[0]).toBe(1);
    expect((copy.c[1] as { d: boolean }).d).toBe(true);
  });
  it('invokes each getter once and reads each Proxy property once', () => {
    let calls = 0;
    const o = {
      get lr() {
        calls++;
        return calls === 1 ? 0.1 : NaN;
      },
    };
    const copy = snapshot('o', o) as { lr: number };
    expect(copy.lr).toBe(0.1);
    expect(copy.lr).toBe(0.1);
    expect(calls).toBe(1);
    const c = counting({ name: 'adam', lr: 0.01, betas: [0.9, 0.999] }, { lr: 1e9 });
    const s = snapshot('optimizer', c.proxy) as { lr: number };
    expect(s.lr).toBe(0.01);
    for (const k of ['name', 'lr', 'betas']) expect(c.gets.get(k), k).toBe(1);
    expect(c.ownKeys()).toBe(1);
  });
  it('refuses functions, symbols, BigInts, class instances, cycles and deep nesting with typed errors', () => {
    const cyc: Record<string, unknown> = { a: 1 };
    cyc.self = cyc;
    let deep: unknown = 1;
    for (let i = 0; i < 17; i++) deep = { x: deep };
    const cases: [unknown, RegExp][] = [
      [{ f: () => 1 }, /o\.f: expected plain data .* got a function/],
      [{ s: Symbol('x') }, /o\.s: .*a symbol/],
      [{ n: 1n }, /o\.n: expected a number \(not a BigInt\)/],
      [{ d: new Date(0) }, /o\.d: .*an instance of Date/],
      [{ m: new Map() }, /an instance of Map/],
      [cyc, /without cycles/],
      [deep, /nested at most 16 levels/],
      [{ a: new DataView(new ArrayBuffer(4)) }, /an instance of DataView/],
    ];
    for (const [v, re] of cases) {
      let err: unknown;
      try {
        snapshot('o', v);
      } catch (e) {
        err = e;
      }
      expect(err, String(re)).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(re);
    }
    // the same object twice (not a cycle) is fine
    const shared = { k: 1 };
    expect(snapshot('o', { a: shared, b: shared })).toEqual({ a: { k: 1 }, b: { k: 1 } });
  });
  it('a throwing getter or Proxy trap becomes a typed error', () => {
    const o = {
      get lr(): number {
        throw new Error('boom');
      },
    };
    expect(() => snapshot('options', o)).toThrow(/options: .*boom/);
    const p = new Proxy(
      {},
      {
        ownKeys() {
          throw new TypeError('no keys');
        },
      },
    );
    expect(() => snapshot('options', p)).toThrow(ConfigError);
    const revocable = Proxy.revocable({ a: 1 }, {});
    revocable.revoke();
    expect(() => snapshot('options', revocable.proxy)).toThrow(ConfigError);
  });
  it('a huge array behind a Proxy is refused by its length, before it is read', () => {
    let reads = 0;
    const p = new Proxy([], {
      get(_t, k) {
        if (k === 'length') return 2 ** 32 - 1;
        reads++;
        return 0;
      },
    });
    expect(() => snapshot('o', { a: p })).toThrow(/at most 16777216 elements/);
    expect(reads).toBe(0);
  });
  it('keys named __proto__ or constructor stay plain data', () => {
    const o = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": 2}');
    const s = snapshot('o', o) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(s)).toBe(Object.prototype);
  });
  it('snapshotObject takes another error class and passes opaque handles through', () => {
    expect(() => snapshotObject('options', 3, 'an object', { ErrorClass: InvalidArgumentError })).toThrow(InvalidArgumentError);
    expect(snapshotObject('options', undefined, 'an object')).toBeUndefined();
    const handle = new Map();
    const s = snapshotObject('options', { core: handle, n: 1 }, 'an object', { opaque: ['core'] })!;
    expect(s.core).toBe(handle);
  });
  it('property: JSON-like values round-trip; anything else is a typed error', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(snapshot('o', v)).toEqual(v);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withMap: true,
          withSet: true,
          withDate: true,
          withTypedArray: true,
          withSparseArray: true,
          withNullPrototype: true,
        }),
        (v) => {
          try {
            snapshot('o', v);
          } catch (e) {
            expect(e).toBeInstanceOf(UnrolledError);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
