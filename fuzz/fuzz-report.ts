/**
 * The fuzz run's report: rounds tallied by attack, platform and first host reaction (count,
 * median time from the attack to the report, traffic after reset), and the table the script
 * prints.
 */
import type { Attack } from './hostile-firmware.js';
import type { Platform } from './fuzz-remotes.js';

export interface OutcomeRow {
  attack: Attack;
  platform: Platform;
  outcome: string;
  count: number;
  /** Median ms from the write to the report (NaN: nothing reported). */
  medianMs: number;
  /** Rounds whose probe echoed after the reset. */
  resumed: number;
}

/** One round's result, as the table counts it. */
export interface RoundOutcome {
  outcome: string;
  /** The mailbox time of the attack (0: it did not run). */
  attackAt: number;
  reportedAt: number | undefined;
  resumed: boolean;
}

export class OutcomeTable {
  private readonly stats = new Map<string, { attack: Attack; platform: Platform; outcome: string; count: number; times: number[]; resumed: number }>();

  add(attack: Attack, platform: Platform, o: RoundOutcome): void {
    const key = `${attack}\0${platform}\0${o.outcome}`;
    const st = this.stats.get(key) ?? { attack, platform, outcome: o.outcome, count: 0, times: [], resumed: 0 };
    st.count++;
    if (o.reportedAt !== undefined) st.times.push(Math.max(0, o.reportedAt - o.attackAt));
    if (o.resumed) st.resumed++;
    this.stats.set(key, st);
  }

  /** The rows, sorted by attack, platform and reaction. */
  rows(): OutcomeRow[] {
    return [...this.stats.values()]
      .map((s) => ({ attack: s.attack, platform: s.platform, outcome: s.outcome, count: s.count, medianMs: median(s.times), resumed: s.resumed }))
      .sort((a, b) => (a.attack + a.platform + a.outcome).localeCompare(b.attack + b.platform + b.outcome));
  }
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The table the script prints: attack, platform, first host reaction, count, median ms to report, traffic after reset. */
export function formatRows(rows: OutcomeRow[]): string {
  const lines = ['attack               platform  reaction                              count  median ms  after reset'];
  for (const r of rows) {
    lines.push(
      `${r.attack.padEnd(20)} ${r.platform.padEnd(9)} ${r.outcome.padEnd(37)} ${String(r.count).padStart(5)}  ${(Number.isNaN(r.medianMs) ? '-' : r.medianMs.toFixed(1)).padStart(9)}  ${r.resumed}/${r.count}`,
    );
  }
  return lines.join('\n');
}
