/** Plans every scenario instance of every rule over the capture's time span. */
import type { ResolvedScenarioOptions } from '../options.js';
import type { Rng } from '../random.js';
import type { RuleSlug } from '../rules.js';
import { REMCOS, REMOTE_CREDENTIAL_ACCESS, REMOTE_REGISTRY, SERVICE_CREATION } from '../rules.js';
import type { LogonReservations } from '../timeline.js';
import type { World } from '../world.js';
import { Plan, instanceTimes } from './plan.js';
import { planRemcos } from './remcos.js';
import { planRemoteCredentialAccess } from './remote-credential-access.js';
import { planRemoteRegistry } from './remote-registry.js';
import { planServiceCreation } from './service-creation.js';

type Planner = (plan: Plan, t: number, k: number) => void;

const PLANNERS: readonly (readonly [RuleSlug, Planner])[] = [
  [REMOTE_REGISTRY, planRemoteRegistry],
  [SERVICE_CREATION, planServiceCreation],
  [REMOTE_CREDENTIAL_ACCESS, planRemoteCredentialAccess],
  [REMCOS, planRemcos],
];

export function planScenarios(
  world: World,
  opts: ResolvedScenarioOptions,
  rng: Rng,
  reservations: LogonReservations,
): Plan {
  const plan = new Plan(world, rng, reservations);
  const spanMs = (opts.events * 1000) / opts.rate;
  PLANNERS.forEach(([slug, planner], r) => {
    const n = opts.scenarios[slug];
    const times = instanceTimes(rng, opts.startMs, spanMs, n, r / PLANNERS.length);
    times.forEach((t, k) => planner(plan, t, k));
  });
  return plan;
}

export type { AlertEntity, PlannedAlert, PlannedNearMiss } from './plan.js';
export { Plan } from './plan.js';
