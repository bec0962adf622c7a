/**
 * The phases a model call may serve (a `CompleteRequest`'s `intent`): what the router's policy
 * routes by, its usage is totalled by, and `GET /v1/models/stats` filters by. `reflect` is Orion
 * wording a reflex from a verified fix, `answer` Orion answering a question about the repository,
 * `classify` the router asking a model what a goal asks for when its own classifier is unsure.
 */
export const ModelPhases = ['plan', 'code', 'review', 'escalate', 'reflect', 'answer', 'classify'] as const;
/** One of {@link ModelPhases}. */
export type ModelPhase = (typeof ModelPhases)[number];
