/**
 * The activities Orion performs for the `coding` and `explain` workflows, by the name the
 * workflow definition uses.
 */
import type { Activity } from './activity.js';
import { answerActivity } from './answer.activity.js';
import { codeActivity } from './code.activity.js';
import { intakeActivity } from './intake.activity.js';
import { planActivity } from './plan.activity.js';
import { preflightActivity } from './preflight.activity.js';
import { reviewActivity } from './review.activity.js';

/** Activity name → implementation; a request for any other name fails with UNKNOWN_ACTIVITY. */
export const orchestratorActivities: Readonly<Record<string, Activity>> = {
  intake: intakeActivity,
  preflight: preflightActivity,
  plan: planActivity,
  code: codeActivity,
  review: reviewActivity,
  answer: answerActivity,
};
