/**
 * Split-brain routing: which model answers a request. Planning, review and escalations go to
 * the strategic model, coding to the tactical one; a caller may name the role explicitly.
 */
import { invalidField } from '@maestro/runtime';
import type { ModelSpec } from '@maestro/llm';

/** The two brains. */
export const Roles = {
  strategic: 'strategic',
  tactical: 'tactical',
} as const;
/** One of {@link Roles}. */
export type Role = (typeof Roles)[keyof typeof Roles];

/** What a completion is for, and the role each intent goes to by default. */
export const IntentRoles = {
  plan: Roles.strategic,
  review: Roles.strategic,
  escalate: Roles.strategic,
  code: Roles.tactical,
} as const satisfies Record<string, Role>;
/** One of the keys of {@link IntentRoles}. */
export type Intent = keyof typeof IntentRoles;

/** The model configured for each role. */
export type RoleModels = Readonly<Record<Role, ModelSpec>>;

/** The answer to "who would answer this?" (mirrors the proto `RouteDecision`). */
export interface RouteDecision {
  role: Role;
  provider: string;
  model: string;
  reason: string;
  scripted: boolean;
}

function isIntent(value: string): value is Intent {
  return Object.prototype.hasOwnProperty.call(IntentRoles, value);
}

function isRole(value: string): value is Role {
  return value === Roles.strategic || value === Roles.tactical;
}

/**
 * Decides the role and model for a request. The intent is required and must be known
 * (`INVALID_ARGUMENT` naming `intent` otherwise); an explicit `role` wins over the intent's
 * default (`INVALID_ARGUMENT` naming `role` if it is neither strategic nor tactical).
 */
export function decideRoute(request: { role: string; intent: string }, models: RoleModels): RouteDecision {
  const intents = Object.keys(IntentRoles).join(', ');
  if (request.intent === '') throw invalidField('intent', `must not be empty; one of ${intents}`);
  if (!isIntent(request.intent)) throw invalidField('intent', `unknown intent "${request.intent}"; expected one of ${intents}`);
  if (request.role !== '' && !isRole(request.role)) {
    throw invalidField('role', `unknown role "${request.role}"; expected strategic or tactical, or empty to derive it from the intent`);
  }
  const explicit = request.role !== '';
  const role: Role = explicit ? (request.role as Role) : IntentRoles[request.intent];
  const spec = models[role];
  return {
    role,
    provider: spec.provider,
    model: spec.model,
    reason: explicit
      ? `role ${role} requested explicitly (intent ${request.intent})`
      : `intent ${request.intent} goes to the ${role} model`,
    scripted: spec.provider === 'scripted',
  };
}
