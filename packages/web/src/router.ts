/**
 * The viewer's routes, which are also its deep links: `/` (runs), `/runs/:runId` (a run) and
 * `/runs/:runId/steps/:stepKey` (a run with one step opened). The gateway answers every one of
 * them with index.html, so a link pasted in a new tab works.
 */
import { createRouter, createWebHistory, type Router } from 'vue-router';
import NotFoundView from './views/NotFoundView.vue';
import RunView from './views/RunView.vue';
import RunsView from './views/RunsView.vue';

/** Route names, for links. */
export const RouteNames = { runs: 'runs', run: 'run', step: 'step' } as const;

/** Builds the router (history mode: real paths, no `#`). */
export function createViewerRouter(): Router {
  return createRouter({
    history: createWebHistory('/'),
    routes: [
      { path: '/', name: RouteNames.runs, component: RunsView },
      { path: '/runs', redirect: '/' },
      { path: '/runs/:runId', name: RouteNames.run, component: RunView, props: true },
      { path: '/runs/:runId/steps/:stepKey', name: RouteNames.step, component: RunView, props: true },
      { path: '/:rest(.*)*', component: NotFoundView },
    ],
  });
}
