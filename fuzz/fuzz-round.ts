/**
 * One fuzz round: boot a fresh hostile remote doing one seeded attack, wait for the host's
 * first reaction (or probe the link), check the counts and the canary, reset the device and
 * probe again (steps 1 to 5 of fuzz.ts).
 */
import type { RpmsgBus } from '../src/index.js';
import { MAILBOX_OFFSET, type Attack } from './hostile-firmware.js';
import { checkCanary, checkCounts, fillCanary, type ReactionWatch, type Round } from './fuzz-checks.js';
import { now, probe, sleep, startRemote, type Platform, type Remote } from './fuzz-remotes.js';
import type { RoundOutcome } from './fuzz-report.js';

const hostileFw = new URL('./hostile-firmware.js', import.meta.url);

/** What every round shares. */
export interface RoundContext {
  bus: RpmsgBus;
  watch: ReactionWatch;
  /** Failed bounds checks of host Regions so far. */
  oobCount: () => number;
  graceMs: number;
  fail: (m: string) => void;
}

/** Round `index`; undefined when the hostile remote did not start (a failure, the run stops). */
export async function runRound(ctx: RoundContext, index: number, attack: Attack, platform: Platform, seed: number): Promise<RoundOutcome | undefined> {
  const { watch, fail } = ctx;
  const label = `round ${index} (${platform} ${attack})`;
  const r = watch.begin(`hostile${index}`);
  const oobBefore = ctx.oobCount();
  const tRound = Date.now();
  let rp: Remote;
  try {
    rp = await startRemote(ctx.bus, platform, r.name, hostileFw, { attack, seed });
  } catch (e) {
    fail(`${label}: the hostile remote did not start: ${String(e)}`);
    return undefined;
  }
  const tBoot = Date.now();
  fillCanary(rp);
  const transport0 = rp.transport;
  rp.on('error', () => {});

  // 2. the attack and the first reaction
  let attackAt = 0;
  const attackDeadline = Date.now() + 5000;
  while ((attackAt = rp.region.dv.getFloat64(MAILBOX_OFFSET, true)) === 0 && Date.now() < attackDeadline) await sleep(2);
  let outcome: string;
  let reportedAt: number | undefined;
  if (attackAt === 0) {
    outcome = 'attack not run';
  } else {
    // (a function: the reaction arrives from listeners, which control-flow narrowing does not see)
    const reaction = (): Round['reaction'] => r.reaction;
    while (reaction() === undefined && now() < attackAt + ctx.graceMs) await sleep(2);
    const first = reaction();
    if (first !== undefined) {
      outcome = first.outcome;
      reportedAt = first.at;
    } else {
      // 3. nothing reported: the link must still work
      const echoed = await probe(rp, 3000);
      const late = reaction();
      if (late !== undefined) {
        outcome = `${late.outcome} at probe`;
        reportedAt = late.at;
      } else if (echoed) {
        outcome = 'no effect';
      } else {
        outcome = 'silent';
        fail(`round ${index} (${platform} ${attack}, seed ${seed}): nothing reported and the link does not echo`);
      }
    }
  }
  r.watching = false;

  // 5a. counts against reports, for the link the attack hit
  const oobRound = ctx.oobCount() - oobBefore;
  if (oobRound > 0 && r.reaction === undefined) fail(`${label}: ${oobRound} out-of-bounds accesses and nothing reported`);
  if (transport0 !== undefined) checkCounts(label, transport0, r, fail);

  // 4. reset, and traffic after it
  let resumed = false;
  if (attackAt !== 0) {
    try {
      await rp.reset();
      resumed = await probe(rp, 5000);
    } catch {
      resumed = false;
    }
  }

  // 5b. the canary
  checkCanary(label, rp, fail);

  if (process.env['FUZZ_DEBUG'] !== undefined) console.error(`round ${index} ${platform} ${attack}: ${outcome}, resumed ${resumed}, t=${Date.now() - tRound} ms (boot ${tBoot - tRound}, attack ${attackAt === 0 ? '-' : Math.round(attackAt - tBoot - performance.timeOrigin + (performance.timeOrigin))})`);
  watch.end();
  await rp.end();
  return { outcome, attackAt, reportedAt, resumed };
}
