/**
 * The routing decision: which model answers a request, decided by the {@link RoutingPolicy}.
 * Pure: success rates for "cheapest qualifying model" rules are given as a snapshot.
 */
import { invalidField } from '@maestro/runtime';
import { priceOf, type ModelSpec, type PriceTable } from '@maestro/llm';
import { parseModelSpec } from '@maestro/llm';
import { isTier, Phases, type Phase, type RoutingPolicy, type RoutingRule, type Tier } from './routing-policy.js';

/** The two brains. */
export const Roles = {
  strategic: 'strategic',
  tactical: 'tactical',
} as const;
/** One of {@link Roles}. */
export type Role = Tier;

/** The role each phase goes to when no rule says otherwise. */
export const PhaseRoles: Readonly<Record<Phase, Role>> = {
  plan: 'strategic',
  review: 'strategic',
  escalate: 'strategic',
  reflect: 'strategic',
  answer: 'strategic',
  classify: 'strategic',
  code: 'tactical',
};

/** The model configured for a tier, and the specs tried while it fails. */
export interface TierModel {
  spec: ModelSpec;
  fallbacks: readonly ModelSpec[];
}

/** The model of each tier. */
export type TierModels = Readonly<Record<Tier, TierModel>>;

/** The answer to "who would answer this?" (mirrors the proto `RouteDecision`). */
export interface RouteDecision {
  role: Role;
  provider: string;
  model: string;
  /** The full spec (`gemini:gemini-2.5-pro`). */
  spec: string;
  /** Specs tried, in order, while `spec` fails. */
  fallbacks: string[];
  reason: string;
  scripted: boolean;
}

/** What a route is asked for. */
export interface RouteQuery {
  role: string;
  /** The phase (`plan`, `code`, `review`, `escalate`). */
  intent: string;
  /** The task's classified intent, when known. */
  taskIntent?: string;
}

/** Measured verdicts of one model in one phase. */
export interface SuccessRate {
  verdicts: number;
  successes: number;
}

/** Looks up measured success rates (a snapshot; see `StatsCache`). */
export type SuccessRates = (spec: string, phase: Phase) => SuccessRate | undefined;

/** Checks the query's fields, naming the bad one. */
export function validateRouteQuery(query: RouteQuery): { phase: Phase; role: Role | undefined } {
  const phases = Phases.join(', ');
  if (query.intent === '') throw invalidField('intent', `must not be empty; one of ${phases}`);
  if (!(Phases as readonly string[]).includes(query.intent)) throw invalidField('intent', `unknown intent "${query.intent}"; expected one of ${phases}`);
  if (query.role !== '' && !isTier(query.role)) {
    throw invalidField('role', `unknown role "${query.role}"; expected strategic or tactical, or empty to derive it from the intent`);
  }
  return { phase: query.intent as Phase, role: query.role === '' ? undefined : (query.role as Role) };
}

/** The first rule whose `when` matches, or undefined. */
export function matchRule(policy: RoutingPolicy, phase: Phase, role: Role | undefined, taskIntent: string | undefined): RoutingRule | undefined {
  return policy.rules.find(
    (rule) =>
      (rule.when.phase === undefined || rule.when.phase.includes(phase)) &&
      (rule.when.role === undefined || (role !== undefined && rule.when.role.includes(role))) &&
      (rule.when.taskIntent === undefined || (taskIntent !== undefined && (rule.when.taskIntent as readonly string[]).includes(taskIntent))),
  );
}

/** Price per million tokens used to rank candidates: input plus output list price. */
function rankPrice(spec: string, prices: PriceTable): number | undefined {
  const price = priceOf(spec, prices);
  return price === undefined ? undefined : price.inputPerMillion + price.outputPerMillion;
}

function decisionFor(target: string, role: Role, reason: string, tiers: TierModels, extraFallbacks: readonly string[] = []): RouteDecision {
  const tier = isTier(target) ? tiers[target] : undefined;
  const spec = tier?.spec ?? parseModelSpec(target);
  const fallbacks = [...(tier?.fallbacks.map((f) => f.spec) ?? []), ...extraFallbacks].filter((f, i, all) => f !== spec.spec && all.indexOf(f) === i);
  return {
    role: isTier(target) ? target : role,
    provider: spec.provider,
    model: spec.model,
    spec: spec.spec,
    fallbacks,
    reason,
    scripted: spec.provider === 'scripted',
  };
}

/**
 * Decides the model for a request. The intent (phase) is required and must be known
 * (`INVALID_ARGUMENT` naming `intent` otherwise); `role`, when given, must be a tier.
 */
export function decideRoute(
  query: RouteQuery,
  context: { policy: RoutingPolicy; tiers: TierModels; prices: PriceTable; rates?: SuccessRates },
): RouteDecision {
  const { phase, role } = validateRouteQuery(query);
  const taskIntent = query.taskIntent === '' ? undefined : query.taskIntent;
  const rule = matchRule(context.policy, phase, role, taskIntent);
  const defaultRole = role ?? PhaseRoles[phase];
  if (rule === undefined) {
    return decisionFor(defaultRole, defaultRole, `no policy rule matches phase ${phase}; the ${defaultRole} model answers`, context.tiers);
  }
  const label = rule.name !== undefined ? `rule "${rule.name}"` : `rule ${context.policy.rules.indexOf(rule)}`;
  if (typeof rule.use === 'string') {
    return decisionFor(rule.use, defaultRole, `${label}: phase ${phase}${role ? `, role ${role}` : ''}${taskIntent ? `, task intent ${taskIntent}` : ''} → ${rule.use}`, context.tiers, rule.fallback);
  }
  const { candidates, minSuccessRate, minSamples, otherwise } = rule.use.cheapest;
  const qualified = candidates
    .map((spec) => ({ spec, rate: context.rates?.(spec, phase), price: rankPrice(spec, context.prices) }))
    .filter((c) => c.price !== undefined && c.rate !== undefined && c.rate.verdicts >= minSamples && c.rate.successes / c.rate.verdicts >= minSuccessRate)
    .sort((a, b) => (a.price as number) - (b.price as number));
  const best = qualified[0];
  if (best !== undefined) {
    const rate = best.rate as SuccessRate;
    return decisionFor(
      best.spec,
      defaultRole,
      `${label}: cheapest model with success rate ≥ ${minSuccessRate} in ${phase}: ${best.spec} (${rate.successes}/${rate.verdicts})`,
      context.tiers,
      rule.fallback,
    );
  }
  return decisionFor(
    otherwise,
    defaultRole,
    `${label}: no candidate has ${minSamples}+ verdicts with success rate ≥ ${minSuccessRate} in ${phase}; using ${otherwise}`,
    context.tiers,
    rule.fallback,
  );
}
