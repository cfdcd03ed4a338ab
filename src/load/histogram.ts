/**
 * A log-bucketed latency histogram in the manner of HdrHistogram: values (microseconds) fall
 * into buckets whose width doubles with each power of two, each power split into 2^SUB_BITS
 * linear sub-buckets, so any recorded value is known to within 1/2^SUB_BITS (0.8 % with 7 bits)
 * at a fixed, small memory cost, and a percentile is read by walking the counts: no samples are
 * kept and none are averaged. Pure.
 */

/** 2^7 = 128 sub-buckets per power of two: relative error below 1/128. */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
/** Values are whole microseconds below 2^32 (71 minutes); larger ones are clamped to it. */
const MAX_VALUE = 2 ** 32 - 1;
const POWERS = 32 - SUB_BITS;

export class LatencyHistogram {
  readonly counts = new Float64Array((POWERS + 1) * SUB);
  count = 0;
  min = Infinity;
  max = 0;

  /** Records one value in microseconds (rounded; negative values count as 0). */
  record(us: number): void {
    const v = Math.min(MAX_VALUE, Math.max(0, Math.round(us)));
    this.counts[indexOf(v)]! += 1;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** A histogram again from its structured clone (what a worker thread posts: the fields, not the class). */
  static from(plain: Pick<LatencyHistogram, 'counts' | 'count' | 'min' | 'max'>): LatencyHistogram {
    const h = new LatencyHistogram();
    h.counts.set(plain.counts);
    h.count = plain.count;
    h.min = plain.min;
    h.max = plain.max;
    return h;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
  }

  /**
   * The value at or below which `q` (0..1) of the recorded values lie: the highest value of the
   * bucket that holds the rank, never above the largest value recorded. Undefined when empty.
   */
  quantile(q: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestOf(i), this.max);
    }
    return this.max;
  }

  /** Non-empty buckets as [lowest value, highest value, count], for reports that draw the shape. */
  buckets(): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) out.push([lowestOf(i), highestOf(i), this.counts[i]!]);
    return out;
  }
}

/** Bucket index of a value: below SUB one bucket per value (exact), above it SUB buckets per power of two. */
export function indexOf(v: number): number {
  if (v < SUB) return v;
  // floor(log2 v) without floating point: Math.log2 may round 2^k - 1 up to k.
  const power = 31 - Math.clz32(v) - SUB_BITS;
  return SUB + power * SUB + (Math.floor(v / 2 ** power) - SUB);
}

export function lowestOf(i: number): number {
  if (i < SUB) return i;
  const power = Math.floor((i - SUB) / SUB);
  return (SUB + ((i - SUB) % SUB)) * 2 ** power;
}

export function highestOf(i: number): number {
  if (i < SUB) return i;
  return lowestOf(i) + 2 ** Math.floor((i - SUB) / SUB) - 1;
}
