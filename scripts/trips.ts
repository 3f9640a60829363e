import {
  Dictionary,
  Field,
  Float32,
  Int8,
  makeData,
  RecordBatch,
  Schema,
  Struct,
  TimestampMillisecond,
  Uint8,
  Utf8,
  vectorFromArray,
} from 'apache-arrow';
import { random } from './datasets.js';
import { ZONES, type Zone, zoneWeightsAt } from './trip-zones.js';

/**
 * Taxi trips in a synthetic city over February 2026, one row a trip, in pickup order: a timestamp with
 * daily and weekly rhythms, pickup points along a rotated street grid around named zones (with a river no
 * pickup lies in), a dictionary-encoded zone and payment type, distance, duration, fare, tip (null for
 * cash, as meters record it), passengers. Deterministic for a seed: same rows, same bytes.
 */
export interface TripsSpec {
  rows: number;
  batchRows: number;
  seed?: number;
}

const START_MS = Date.UTC(2026, 1, 1); // Sunday 2026-02-01T00:00:00Z
const HOURS = 28 * 24;
const CENTER = { lon: 2.35, lat: 45.02 }; // a synthetic city; km → degrees below
const KM_LAT = 1 / 111.2;
const KM_LON = 1 / (111.2 * Math.cos((CENTER.lat * Math.PI) / 180));
const GRID_COS = Math.cos((28 * Math.PI) / 180);
const GRID_SIN = Math.sin((28 * Math.PI) / 180);
const BLOCK_KM = 0.24;
const PAYMENTS = ['card', 'app', 'cash'];

/** The trips' schema: what `npm start` serves and the demo page loads. */
export function tripsSchema(): Schema {
  return new Schema([
    new Field('pickup_at', new TimestampMillisecond(), false),
    new Field('pickup_lon', new Float32(), false),
    new Field('pickup_lat', new Float32(), false),
    new Field('zone', new Dictionary(new Utf8(), new Int8(), 0), false),
    new Field('distance_km', new Float32(), false),
    new Field('fare', new Float32(), false),
    new Field('tip', new Float32(), true),
    new Field('duration_min', new Float32(), false),
    new Field('passengers', new Uint8(), false),
    new Field('payment', new Dictionary(new Utf8(), new Int8(), 1), false),
  ]);
}

/** Trips an hour of the week gets, relative: quiet at 4 am, commuter peaks on weekdays, late weekend nights. */
function hourIntensity(hourOfMonth: number): number {
  const day = Math.floor(hourOfMonth / 24) % 7; // 0 = Sunday
  const h = hourOfMonth % 24;
  const weekend = day === 0 || day === 6;
  const bump = (centre: number, width: number) => Math.exp(-(((h - centre) / width) ** 2));
  if (weekend) return 0.25 + 1.1 * bump(14, 5) + 0.9 * bump(23.5, 2.5) + 0.7 * bump(0, 2.5);
  return 0.15 + 1.4 * bump(8.5, 1.4) + 1.1 * bump(13, 3) + 1.6 * bump(18.5, 1.8) + 0.5 * bump(22, 2);
}

/** The pickup time of each of `rows` trips: quantiles of the hourly intensity, so rows come out sorted. */
function pickupTimes(rows: number): Float64Array {
  const cdf = new Float64Array(HOURS + 1);
  for (let h = 0; h < HOURS; h++) cdf[h + 1] = (cdf[h] as number) + hourIntensity(h);
  const total = cdf[HOURS] as number;
  const out = new Float64Array(rows);
  let h = 0;
  for (let i = 0; i < rows; i++) {
    const target = ((i + 0.5) / rows) * total;
    while ((cdf[h + 1] as number) < target) h++;
    const within = (target - (cdf[h] as number)) / ((cdf[h + 1] as number) - (cdf[h] as number));
    out[i] = START_MS + Math.floor((h + within) * 3_600_000);
  }
  return out;
}

/** Draws trips one by one; keeps its random stream so that batches continue where the last one ended. */
class TripDrawer {
  readonly next: () => number;
  private spare: number | null = null;

  constructor(seed: number) {
    this.next = random(seed);
  }

  /** A standard normal (Box–Muller, both values used). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.next()));
    const a = 2 * Math.PI * this.next();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }

  pick(cumulative: Float64Array): number {
    const u = this.next() * (cumulative[cumulative.length - 1] as number);
    let k = 0;
    while ((cumulative[k] as number) < u) k++;
    return k;
  }

  /** The last point drawn, km east and north of the centre. */
  x = 0;
  y = 0;

  /** A pickup point around the zone, snapped to the street grid, out of the river: sets `x`, `y`. */
  point(zone: Zone): void {
    let x = zone.x + zone.spread * this.normal();
    let y = zone.y + zone.spread * this.normal();
    if (this.next() < 0.8) {
      // Along a street: one grid coordinate snapped to the nearest block edge.
      let u = x * GRID_COS + y * GRID_SIN;
      let v = -x * GRID_SIN + y * GRID_COS;
      const jitter = 0.012 * this.normal();
      if (this.next() < 0.5) u = Math.round(u / BLOCK_KM) * BLOCK_KM + jitter;
      else v = Math.round(v / BLOCK_KM) * BLOCK_KM + jitter;
      x = u * GRID_COS - v * GRID_SIN;
      y = u * GRID_SIN + v * GRID_COS;
    }
    const river = 1.6 * Math.sin(x / 2.7) - 0.6 + 0.25 * Math.sin(x * 1.3);
    if (Math.abs(y - river) < 0.18) y = river + Math.sign(y - river || 1) * (0.18 + 0.05 * this.next());
    this.x = x;
    this.y = y;
  }
}

/** The columns of one batch of trips, as typed arrays. */
interface TripColumns {
  times: Float64Array;
  lon: Float32Array;
  lat: Float32Array;
  zone: Int8Array;
  distance: Float32Array;
  duration: Float32Array;
  fare: Float32Array;
  tip: Float32Array;
  tipValid: Uint8Array;
  tipNulls: number;
  passengers: Uint8Array;
  payment: Int8Array;
}

const PASSENGERS = Float64Array.from([0.7, 0.84, 0.9, 0.94, 0.98, 1]);
const PAYMENT_WEIGHTS = Float64Array.from([0.68, 0.85, 1]);
const TIP_RATES = [0.1, 0.15, 0.18, 0.2, 0.25];

/** Rows `[row0, row0 + n)` of the trips, drawn from `draw`'s stream in row order. */
function tripColumns(draw: TripDrawer, times: Float64Array, row0: number, n: number): TripColumns {
  const c: TripColumns = {
    times: times.subarray(row0, row0 + n),
    lon: new Float32Array(n),
    lat: new Float32Array(n),
    zone: new Int8Array(n),
    distance: new Float32Array(n),
    duration: new Float32Array(n),
    fare: new Float32Array(n),
    tip: new Float32Array(n),
    tipValid: new Uint8Array(Math.ceil(n / 8)),
    tipNulls: 0,
    passengers: new Uint8Array(n),
    payment: new Int8Array(n),
  };
  let hour = -1;
  let weights: Float64Array = new Float64Array(ZONES.length);
  let kmh = 0;
  let night = 0;
  for (let i = 0; i < n; i++) {
    const hourOfMonth = Math.floor(((c.times[i] as number) - START_MS) / 3_600_000);
    if (hourOfMonth !== hour) {
      // What depends on the hour only: the zones' weights, traffic speed, the night surcharge.
      hour = hourOfMonth;
      weights = zoneWeightsAt(hourOfMonth);
      const h = hourOfMonth % 24;
      const rush = Math.exp(-(((h - 8.5) / 1.5) ** 2)) + Math.exp(-(((h - 18) / 1.8) ** 2));
      kmh = (h < 6 ? 34 : 27) - 12 * rush;
      night = h >= 22 || h < 6 ? 2.5 : 0;
    }
    const k = draw.pick(weights);
    const zone = ZONES[k] as Zone;
    draw.point(zone);
    c.zone[i] = k;
    c.lon[i] = CENTER.lon + draw.x * KM_LON;
    c.lat[i] = CENTER.lat + draw.y * KM_LAT;
    const distance = Math.min(80, Math.max(0.3, zone.tripKm * Math.exp(0.6 * draw.normal())));
    const duration = 1.5 + (distance / kmh) * 60 * Math.exp(0.18 * draw.normal());
    const fare = Math.round((3 + 1.72 * distance + 0.38 * duration + night) * 100) / 100;
    c.distance[i] = Math.round(distance * 100) / 100;
    c.duration[i] = Math.round(duration * 10) / 10;
    c.fare[i] = fare;
    c.passengers[i] = draw.pick(PASSENGERS) + 1;
    const payment = draw.pick(PAYMENT_WEIGHTS);
    c.payment[i] = payment;
    if (payment === 2) {
      c.tipNulls++; // cash: the meter does not know the tip
      continue;
    }
    c.tipValid[i >> 3] = (c.tipValid[i >> 3] as number) | (1 << (i & 7));
    const rate = draw.next() < 0.22 ? 0 : (TIP_RATES[Math.floor(draw.next() * TIP_RATES.length)] as number);
    c.tip[i] = Math.round(fare * rate * (1 + 0.08 * draw.normal()) * 100) / 100;
  }
  return c;
}

/** Timestamps as Int64 words (little-endian lo, hi) from non-negative integers below 2^53. */
function int64Words(values: Float64Array): BigInt64Array {
  const out = new BigInt64Array(values.length);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    words[2 * i] = v % 4294967296;
    words[2 * i + 1] = Math.floor(v / 4294967296);
  }
  return out;
}

/** The trips as record batches of `batchRows`, made one at a time. */
export function* tripBatches(spec: TripsSpec): Generator<RecordBatch> {
  const schema = tripsSchema();
  const times = pickupTimes(spec.rows);
  const draw = new TripDrawer(spec.seed ?? 2026);
  const dictionaries = [
    vectorFromArray(
      ZONES.map((z) => z.name),
      new Utf8(),
    ),
    vectorFromArray(PAYMENTS, new Utf8()),
  ];
  for (let row0 = 0; row0 < spec.rows; row0 += spec.batchRows) {
    const n = Math.min(spec.batchRows, spec.rows - row0);
    const c = tripColumns(draw, times, row0, n);
    const [ts, lon, lat, zone, distance, fare, tip, duration, passengers, payment] = schema.fields.map(
      (f) => f.type,
    );
    const plain = (type: typeof ts, data: ArrayBufferView) => makeData({ type, length: n, data } as never);
    const children = [
      plain(ts, int64Words(c.times)),
      plain(lon, c.lon),
      plain(lat, c.lat),
      makeData({ type: zone, length: n, data: c.zone, dictionary: dictionaries[0] } as never),
      plain(distance, c.distance),
      plain(fare, c.fare),
      makeData({
        type: tip,
        length: n,
        data: c.tip,
        nullBitmap: c.tipValid,
        nullCount: c.tipNulls,
      } as never),
      plain(duration, c.duration),
      plain(passengers, c.passengers),
      makeData({ type: payment, length: n, data: c.payment, dictionary: dictionaries[1] } as never),
    ];
    const struct = makeData({ type: new Struct(schema.fields), length: n, children, nullCount: 0 });
    yield new RecordBatch(schema, struct);
  }
}
