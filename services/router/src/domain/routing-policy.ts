/**
 * The routing policy: which model serves which phase (the call's intent: plan, code, review,
 * escalate, reflect — Orion wording a reflex from a verified fix —, answer — Orion answering a
 * question about the repository —, classify — the router asking what an unclear goal asks for)
 * and task intent, as validated JSON data rather than code. Rules are tried in order;
 * the first whose `when` matches decides. A rule `use`s a tier (`strategic` / `tactical`, the
 * models configured for the roles), a model spec, or "the cheapest candidate whose measured
 * success rate for this phase is at least X". Also maps task intents to workflow definitions.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '@maestro/runtime';
import { ModelPhases, type ModelPhase } from '@maestro/contracts';
import { parseModelSpec } from '@maestro/llm';

/** The phases a call may serve (the `intent` of a CompleteRequest): the contracts' {@link ModelPhases}. */
export const Phases = ModelPhases;
/** One of {@link Phases}. */
export type Phase = ModelPhase;

/** The task intents the classifier gives. */
export const TaskIntents = ['plan', 'code', 'fix', 'refactor', 'test', 'docs', 'explain', 'review', 'ops'] as const;

const TIERS = ['strategic', 'tactical'] as const;
/** A tier: the model configured for a role. */
export type Tier = (typeof TIERS)[number];

const specString = z.string().superRefine((value, ctx) => {
  try {
    parseModelSpec(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const CheapestSchema = z
  .object({
    /** Specs to choose from, each priced in the price table. */
    candidates: z.array(specString).min(1),
    /** The least measured success rate (verdicts succeeded / verdicts) a candidate needs. */
    minSuccessRate: z.number().min(0).max(1),
    /** Verdicts a candidate needs before its rate counts. @default 5 */
    minSamples: z.number().int().min(1).default(5),
    /** Used when no candidate qualifies: a tier or a spec. */
    otherwise: z.union([z.enum(TIERS), specString]),
  })
  .strict();

const RuleSchema = z
  .object({
    /** A short name, for decisions' reasons. */
    name: z.string().min(1).optional(),
    when: z
      .object({
        phase: z.array(z.enum(Phases)).min(1).optional(),
        role: z.array(z.enum(TIERS)).min(1).optional(),
        taskIntent: z.array(z.enum(TaskIntents)).min(1).optional(),
      })
      .strict()
      .default({}),
    use: z.union([z.enum(TIERS), specString, z.object({ cheapest: CheapestSchema }).strict()]),
    /** Specs tried, in order, while the chosen model fails (a tier's own fallbacks come from config). */
    fallback: z.array(specString).optional(),
  })
  .strict();

/**
 * The defaults of a policy's `intentModel`: ask below 0.4, where the classifier's README calls a
 * goal ambiguous; within 1.5 s, inside the orchestrator's 2 s deadline for classifying a goal.
 */
export const IntentModelDefaults = { askBelow: 0.4, deadlineMs: 1_500 } as const;

/** The schema of a routing policy file. */
export const RoutingPolicySchema = z
  .object({
    $comment: z.string().optional(),
    rules: z.array(RuleSchema).min(1),
    /** Task intent → workflow definition name; intents not listed run `defaultWorkflow`. */
    workflows: z.partialRecord(z.enum(TaskIntents), z.string().min(1)).default({}),
    /**
     * The least classifier confidence for `workflows` to apply; a goal classified less surely
     * runs `defaultWorkflow` (a question misread as a change costs a review, a change misread as
     * a question costs the change). @default 0.5
     */
    workflowMinConfidence: z.number().min(0).max(1).default(0.5),
    /** @default "coding" */
    defaultWorkflow: z.string().min(1).default('coding'),
    /**
     * When the router asks a model what a goal asks for: the local classifier's confidence below
     * which the model routed for the `classify` phase is asked (0: never), and how long it may
     * take before the classifier's answer stands. Never a scripted model. @default IntentModelDefaults
     */
    intentModel: z
      .object({
        askBelow: z.number().min(0).max(1).default(() => IntentModelDefaults.askBelow),
        deadlineMs: z.number().int().min(100).max(30_000).default(() => IntentModelDefaults.deadlineMs),
      })
      .strict()
      .default(() => ({ ...IntentModelDefaults })),
  })
  .strict();

/** A validated routing policy. */
export type RoutingPolicy = z.infer<typeof RoutingPolicySchema>;
/** One rule of a {@link RoutingPolicy}. */
export type RoutingRule = RoutingPolicy['rules'][number];

/**
 * The default policy: an explicit role wins; plans, reviews, escalations, reflexes, answers and
 * the classification of a goal the classifier is unsure of go to the strategic model, coding to
 * the tactical one. A goal classified as a question about
 * the code (`explain`) runs the read-only `explain` workflow (Orion answers; nothing is changed
 * or committed) when the classifier is at least `workflowMinConfidence` sure; everything else
 * runs the `coding` workflow. Not `review`: such goals often ask for changes as well ("review
 * src/retry.ts and fix any bugs"), and a change read as a question would be lost.
 */
export const defaultRoutingPolicy: RoutingPolicy = RoutingPolicySchema.parse({
  rules: [
    { name: 'explicit strategic role', when: { role: ['strategic'] }, use: 'strategic' },
    { name: 'explicit tactical role', when: { role: ['tactical'] }, use: 'tactical' },
    { name: 'strategic phases', when: { phase: ['plan', 'review', 'escalate', 'reflect', 'answer', 'classify'] }, use: 'strategic' },
    { name: 'coding', when: { phase: ['code'] }, use: 'tactical' },
  ],
  workflows: { explain: 'explain' },
});

/** Validates a policy object; a `UserError` (`ROUTING_POLICY_INVALID`) names each bad path. */
export function parseRoutingPolicy(raw: unknown, source = 'routing policy'): RoutingPolicy {
  const parsed = RoutingPolicySchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)'}: ${issue.message}`);
  throw new UserError('ROUTING_POLICY_INVALID', `${source} is invalid: ${problems.join('; ')}`, { details: { problems } });
}

/** Reads and validates a policy file; a missing file or bad JSON is a `UserError` naming it. */
export function loadRoutingPolicy(path: string): RoutingPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UserError('ROUTING_POLICY_INVALID', `routing policy ${path} cannot be read as JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseRoutingPolicy(raw, `routing policy ${path}`);
}

/** Every model spec a policy names (besides the tiers), so each gets a provider at start. */
export function specsNamedBy(policy: RoutingPolicy): string[] {
  const specs = new Set<string>();
  for (const rule of policy.rules) {
    if (typeof rule.use === 'string') {
      if (!(TIERS as readonly string[]).includes(rule.use)) specs.add(rule.use);
    } else {
      rule.use.cheapest.candidates.forEach((s) => specs.add(s));
      if (!(TIERS as readonly string[]).includes(rule.use.cheapest.otherwise)) specs.add(rule.use.cheapest.otherwise);
    }
    rule.fallback?.forEach((s) => specs.add(s));
  }
  return [...specs];
}

/**
 * The workflow definition the policy picks for a goal classified as `taskIntent` with
 * `confidence`: the intent's workflow when the classifier is at least `workflowMinConfidence`
 * sure, else the default.
 */
export function workflowFor(policy: RoutingPolicy, taskIntent: string, confidence: number): string {
  if (confidence < policy.workflowMinConfidence) return policy.defaultWorkflow;
  return (policy.workflows as Record<string, string | undefined>)[taskIntent] ?? policy.defaultWorkflow;
}

/** True when `value` is a tier name. */
export function isTier(value: string): value is Tier {
  return (TIERS as readonly string[]).includes(value);
}
