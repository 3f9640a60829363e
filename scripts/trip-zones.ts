/** A named area of the synthetic city: where its pickups cluster (km from the centre) and how far its trips go. */
export interface Zone {
  name: string;
  x: number;
  y: number;
  /** Standard deviation of pickups around the centre, km. */
  spread: number;
  /** Share of trips at an ordinary hour, relative. */
  weight: number;
  /** Median trip distance from here, km. */
  tripKm: number;
  /** When it is busier than its weight: `office` on weekday rush hours, `night` late, `travel` early, `home` mornings. */
  rhythm: 'office' | 'night' | 'travel' | 'home';
}

/** The zones, in dictionary order (the `zone` column's codes): ten, one colour each in a categorical palette. */
export const ZONES: readonly Zone[] = [
  { name: 'Downtown', x: 0, y: 0.2, spread: 1.1, weight: 22, tripKm: 2.6, rhythm: 'office' },
  { name: 'Midtown', x: 1.4, y: 2.8, spread: 1.0, weight: 14, tripKm: 2.8, rhythm: 'office' },
  { name: 'Old Town', x: -2.6, y: 1.3, spread: 0.7, weight: 10, tripKm: 2.2, rhythm: 'night' },
  { name: 'Central Station', x: 0.9, y: -1.4, spread: 0.35, weight: 8, tripKm: 3.5, rhythm: 'travel' },
  { name: 'Harbour', x: 3.4, y: -2.4, spread: 0.9, weight: 7, tripKm: 3.2, rhythm: 'night' },
  { name: 'University', x: -1.8, y: -3.2, spread: 0.8, weight: 7, tripKm: 2.4, rhythm: 'night' },
  { name: 'Tech Park', x: 6, y: 4, spread: 0.9, weight: 6, tripKm: 5.5, rhythm: 'office' },
  { name: 'Northside', x: -1.5, y: 6, spread: 2.2, weight: 8, tripKm: 4.5, rhythm: 'home' },
  { name: 'Southgate', x: 1.5, y: -6.5, spread: 2.4, weight: 7, tripKm: 4.5, rhythm: 'home' },
  { name: 'Airport', x: 11.5, y: -8, spread: 0.45, weight: 4, tripKm: 17, rhythm: 'travel' },
];

/** How much busier than its weight a zone of each rhythm is at hour `h` (0–23) of a weekday or weekend day. */
function rhythmFactor(rhythm: Zone['rhythm'], h: number, weekend: boolean): number {
  const near = (centre: number, width: number) => Math.exp(-(((h - centre) / width) ** 2));
  const late = Math.max(near(23, 2.5), near(-1, 2.5));
  switch (rhythm) {
    case 'office':
      return weekend ? 0.6 : 1 + 0.9 * near(8.5, 1.5) + 0.7 * near(18, 1.5);
    case 'night':
      return 0.8 + (weekend ? 2.4 : 1.2) * late;
    case 'travel':
      return 1 + 1.5 * near(6.5, 1.5) + (weekend ? 0.5 : 0);
    case 'home':
      return 1 + 0.8 * near(7.5, 1.5) + 0.4 * late;
  }
}

/** The zones' cumulative weights at hour `hourOfMonth` from 2026-02-01 (a Sunday). */
export function zoneWeightsAt(hourOfMonth: number): Float64Array {
  const day = Math.floor(hourOfMonth / 24) % 7;
  const weekend = day === 0 || day === 6;
  const out = new Float64Array(ZONES.length);
  let sum = 0;
  ZONES.forEach((zone, k) => {
    sum += zone.weight * rhythmFactor(zone.rhythm, hourOfMonth % 24, weekend);
    out[k] = sum;
  });
  return out;
}
