/**
 * Delivery on real git repositories in temp dirs: the adapter (`GitBranchDelivery`) with
 * `deliverTask` — the task branch left for review, the user's branch fast-forwarded when that is
 * safe, refused with the reason when the user's tree is dirty or their branch moved on, and
 * nothing delivered when the task branch moved after the review — and the review activity end to
 * end through Orion (real NATS and PostgreSQL), whose outcome GetTask shows.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Subjects, SubmitTaskRequest, type ActivityRequest } from '@maestro/contracts';
import { deliverTask } from '../src/app/deliver-task.js';
import { taskBranchName, type DeliveryModeChoice } from '../src/domain/delivery.js';
import { GitBranchDelivery } from '../src/store/git-branch-delivery.js';
import { createGitRepo, startHarness, type Harness } from './harness.js';

const git = new GitBranchDelivery();
const FF: DeliveryModeChoice = { ok: true, mode: 'fast-forward' };
const BRANCH: DeliveryModeChoice = { ok: true, mode: 'branch' };

function run(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { encoding: 'utf8' }).trim();
}

/** Commits `file` on the task branch of `taskId` (created from the current HEAD); returns its sha. Leaves the user's branch checked out. */
async function workOnTaskBranch(dir: string, taskId: string, file = 'src/feature.js'): Promise<string> {
  const branch = taskBranchName(taskId);
  const worktree = `${dir}-wt-${taskId.slice(0, 8)}`;
  run(dir, 'worktree', 'add', '-q', '-b', branch, worktree);
  await writeFile(path.join(worktree, path.basename(file)), 'export const feature = 1;\n');
  run(worktree, 'add', '-A');
  run(worktree, 'commit', '-qm', 'subtask s1');
  run(dir, 'worktree', 'remove', '--force', worktree);
  return run(dir, 'rev-parse', branch);
}

function userBranchTip(dir: string): string {
  return run(dir, 'rev-parse', 'HEAD');
}

/** An approving review that saw the task branch at `sha`. */
const approved = (sha: string) => ({ approved: true, sha });

/** A merge landing on the task branch (as a late executor would): another commit on top of it. */
function lateMerge(dir: string, taskId: string): string {
  const worktree = `${dir}-late-${taskId.slice(0, 8)}`;
  run(dir, 'worktree', 'add', '-q', worktree, taskBranchName(taskId));
  execFileSync('sh', ['-c', 'echo late > late.js'], { cwd: worktree });
  run(worktree, 'add', '-A');
  run(worktree, 'commit', '-qm', 'merged after the review');
  run(dir, 'worktree', 'remove', '--force', worktree);
  return run(dir, 'rev-parse', taskBranchName(taskId));
}

describe('deliverTask with GitBranchDelivery', () => {
  let repo: { dir: string; remove(): Promise<void> };
  const task = (id: string) => ({ id, repoPath: repo.dir });

  beforeEach(async () => {
    repo = await createGitRepo({ 'README.md': '# calc\n', 'src/index.js': '' });
  });

  afterEach(async () => {
    await repo.remove();
  });

  it('leaves the task branch for review in branch mode, and the user\'s branch where it was', async () => {
    const before = userBranchTip(repo.dir);
    const sha = await workOnTaskBranch(repo.dir, 't-branch');
    const outcome = await deliverTask(task('t-branch'), approved(sha), BRANCH, git);
    expect(outcome).toEqual({
      mode: 'branch', branch: 'maestro/t-branch', sha, delivered: true,
      reason: `the task branch maestro/t-branch (${sha.slice(0, 12)}) is left for review; merge it when ready`,
    });
    expect(userBranchTip(repo.dir)).toBe(before);
  });

  it('fast-forwards the user\'s clean branch to the task branch, working tree included, and again idempotently', async () => {
    const userBranch = run(repo.dir, 'symbolic-ref', '--short', 'HEAD');
    const sha = await workOnTaskBranch(repo.dir, 't-ff', 'feature.js');
    const outcome = await deliverTask(task('t-ff'), approved(sha), FF, git);
    expect(outcome).toEqual({ mode: 'fast-forward', branch: 'maestro/t-ff', sha, delivered: true, reason: `${userBranch} was fast-forwarded to maestro/t-ff (${sha.slice(0, 12)})` });
    expect(userBranchTip(repo.dir)).toBe(sha);
    expect(run(repo.dir, 'status', '--porcelain')).toBe('');
    expect(run(repo.dir, 'show', 'HEAD:feature.js')).toContain('feature');
    // A redelivered review delivers again: the branch is already there.
    expect((await deliverTask(task('t-ff'), approved(sha), FF, git)).delivered).toBe(true);
  });

  it('refuses when the user\'s working tree has uncommitted changes, naming them', async () => {
    const before = userBranchTip(repo.dir);
    const sha = await workOnTaskBranch(repo.dir, 't-dirty');
    await writeFile(path.join(repo.dir, 'README.md'), '# calc, edited by hand\n');
    const outcome = await deliverTask(task('t-dirty'), approved(sha), FF, git);
    expect(outcome.delivered).toBe(false);
    expect(outcome.reason).toMatch(/^not fast-forwarded: the working tree of \S+ has uncommitted changes \(README\.md\); commit or stash them and merge maestro\/t-dirty yourself; the task branch maestro\/t-dirty \([0-9a-f]{12}\) is left for review$/);
    expect(userBranchTip(repo.dir)).toBe(before);
    expect(run(repo.dir, 'diff', '--name-only')).toBe('README.md');
  });

  it('refuses when the user\'s branch moved on (diverged), and leaves both branches', async () => {
    const sha = await workOnTaskBranch(repo.dir, 't-diverged');
    await writeFile(path.join(repo.dir, 'other.js'), '1;\n');
    run(repo.dir, 'add', '-A');
    run(repo.dir, 'commit', '-qm', 'the user kept working');
    const mine = userBranchTip(repo.dir);
    const outcome = await deliverTask(task('t-diverged'), approved(sha), FF, git);
    expect(outcome).toMatchObject({ mode: 'fast-forward', sha, delivered: false });
    expect(outcome.reason).toContain(`its tip ${mine.slice(0, 12)} is not an ancestor of maestro/t-diverged, so a fast-forward is impossible`);
    expect(userBranchTip(repo.dir)).toBe(mine);
    expect(run(repo.dir, 'rev-parse', 'maestro/t-diverged')).toBe(sha);
  });

  it('refuses on a detached HEAD', async () => {
    const sha = await workOnTaskBranch(repo.dir, 't-detached');
    run(repo.dir, 'checkout', '-q', '--detach');
    const outcome = await deliverTask(task('t-detached'), approved(sha), FF, git);
    expect(outcome.delivered).toBe(false);
    expect(outcome.reason).toContain('no branch checked out (detached HEAD)');
  });

  it('delivers nothing when the review did not approve, or no subtask merged into the task branch', async () => {
    const before = userBranchTip(repo.dir);
    const sha = await workOnTaskBranch(repo.dir, 't-rejected');
    expect(await deliverTask(task('t-rejected'), { approved: false, sha }, FF, git)).toEqual({
      mode: 'fast-forward', branch: 'maestro/t-rejected', sha, delivered: false,
      reason: `the review did not approve the change; the task branch maestro/t-rejected at ${sha.slice(0, 12)} is left as it is`,
    });
    expect(userBranchTip(repo.dir)).toBe(before);
    expect(await deliverTask(task('t-none'), approved(''), FF, git)).toMatchObject({
      sha: '', delivered: false, reason: 'the task branch maestro/t-none does not exist: no subtask merged into it, so there is nothing to deliver',
    });
  });

  it('delivers nothing when the task branch moved after the review, in either mode', async () => {
    const before = userBranchTip(repo.dir);
    const reviewed = await workOnTaskBranch(repo.dir, 't-moved');
    const now = lateMerge(repo.dir, 't-moved');
    for (const mode of [FF, BRANCH]) {
      const outcome = await deliverTask(task('t-moved'), approved(reviewed), mode, git);
      expect(outcome).toMatchObject({ sha: reviewed, delivered: false });
      expect(outcome.reason).toBe(
        `the task branch maestro/t-moved moved after the review: the review saw ${reviewed.slice(0, 12)}, it is now at ${now.slice(0, 12)}; the commits since were never reviewed, so nothing is delivered and the branch is left for review`,
      );
    }
    expect(userBranchTip(repo.dir)).toBe(before);
    // A branch that appeared only after a review that saw none is not delivered either.
    const appeared = await workOnTaskBranch(repo.dir, 't-appeared');
    expect(await deliverTask(task('t-appeared'), approved(''), FF, git)).toMatchObject({ delivered: false, reason: expect.stringContaining(`the review saw no task branch, it is now at ${appeared.slice(0, 12)}`) });
    // A review stored before the commit was recorded delivers nothing.
    expect(await deliverTask(task('t-appeared'), { approved: true, sha: null }, FF, git)).toMatchObject({ delivered: false, reason: expect.stringContaining('was not recorded') });
    expect(userBranchTip(repo.dir)).toBe(before);
  });

  it('leaves the branch, naming the problem, when the workflow asks for an unknown mode', async () => {
    const sha = await workOnTaskBranch(repo.dir, 't-odd');
    const outcome = await deliverTask(task('t-odd'), approved(sha), { ok: false, mode: 'branch', problem: 'context.delivery: must be "branch" or "fast-forward", got "ff"' }, git);
    expect(outcome.reason).toMatch(/^context\.delivery: must be "branch" or "fast-forward", got "ff", so the task branch maestro\/t-odd/);
  });
});

describe('delivery through the review activity', () => {
  let h: Harness;
  let repo: { dir: string; remove(): Promise<void> };

  beforeAll(async () => {
    h = await startHarness();
    h.router.replies.plan = JSON.stringify({ subtasks: [{ id: 's1', title: 'feature', instructions: 'add it', files: ['feature.js'] }] });
    h.router.replies.review = '{"approved": true, "summary": "done"}';
    repo = await createGitRepo({ Makefile: 'test:\n\tnode --test\n', 'src/index.js': '' });
  });

  afterAll(async () => {
    await h?.close();
    await repo?.remove();
  });

  function request(r: { taskId: string; runId: string }, activity: string, context: Record<string, unknown> = {}): ActivityRequest {
    return {
      workId: `${r.runId}:${activity}:1`, runId: r.runId, state: activity, activity, attempt: 1,
      context: { input: { taskId: r.taskId }, ...context }, requestedAt: new Date().toISOString(),
    };
  }

  async function perform(req: ActivityRequest) {
    await h.bus.publish(Subjects.activityRequest('orchestrator', req.activity), req, { msgId: req.workId });
    const results = await h.results.waitFor((rs) => rs.some((r) => r.workId === req.workId), `the ${req.activity} result`);
    return results.find((r) => r.workId === req.workId);
  }

  it('fast-forwards the user\'s branch after approval when the workflow asks for it, and GetTask says so', async () => {
    const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add a feature', repoPath: repo.dir }));
    const r = { taskId: task.id, runId: task.runId };
    expect(await perform(request(r, 'plan'))).toMatchObject({ ok: true });
    const sha = await workOnTaskBranch(repo.dir, task.id, 'feature.js');

    const review = await perform(request(r, 'review', { delivery: 'fast-forward' }));
    expect(review?.output?.delivery).toMatchObject({ mode: 'fast-forward', branch: `maestro/${task.id}`, sha, delivered: true });
    expect(userBranchTip(repo.dir)).toBe(sha);
    const got = await h.client.call.getTask({ tenant: '', taskId: task.id });
    expect(got.delivery).toMatchObject({ mode: 'fast-forward', branch: `maestro/${task.id}`, sha, delivered: true });
    expect(got.delivery?.reason).toContain(`was fast-forwarded to maestro/${task.id}`);
  });

  it('does not deliver a merge that landed while the review was being decided', async () => {
    const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add a reviewed feature', repoPath: repo.dir }));
    const r = { taskId: task.id, runId: task.runId };
    expect(await perform(request(r, 'plan'))).toMatchObject({ ok: true });
    const reviewed = await workOnTaskBranch(repo.dir, task.id, 'reviewed.js');
    const before = userBranchTip(repo.dir);
    let late = '';
    h.router.replies.review = () => {
      // The review read the branch already; this merge reaches it while the model thinks.
      late = lateMerge(repo.dir, task.id);
      return '{"approved": true, "summary": "done"}';
    };
    try {
      const review = await perform(request(r, 'review', { delivery: 'fast-forward' }));
      expect(review?.output?.delivery).toMatchObject({ mode: 'fast-forward', sha: reviewed, delivered: false });
      expect(String((review?.output?.delivery as { reason: string }).reason)).toContain(`the review saw ${reviewed.slice(0, 12)}, it is now at ${late.slice(0, 12)}`);
    } finally {
      h.router.replies.review = '{"approved": true, "summary": "done"}';
    }
    expect(userBranchTip(repo.dir)).toBe(before);
  });

  it('says a cancelled task leaves its branch as it is, where git has it', async () => {
    const task = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'Add another feature', repoPath: repo.dir }));
    const cancelled = await h.client.call.cancelTask({ tenant: '', taskId: task.id, reason: 'not needed' });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.delivery).toEqual({
      mode: 'branch', branch: `maestro/${task.id}`, sha: '', delivered: false,
      reason: `the task was cancelled; no subtask merged into it, so there is no branch maestro/${task.id}`,
    });
    // A merge no executor reported (or reported with a skewed clock): GetTask shows git's tip.
    const tip = await workOnTaskBranch(repo.dir, task.id, 'cancelled.js');
    const got = await h.client.call.getTask({ tenant: '', taskId: task.id });
    expect(got.delivery).toEqual({ mode: 'branch', branch: `maestro/${task.id}`, sha: tip, delivered: false, reason: `the task was cancelled; its branch maestro/${task.id} is left as it is` });
    // ListTasks shows the same (all tips of a page read with one git call per repository).
    const other = await h.client.call.submitTask(SubmitTaskRequest.fromPartial({ goal: 'And one more', repoPath: repo.dir }));
    await h.client.call.cancelTask({ tenant: '', taskId: other.id, reason: 'not needed either' });
    const listed = new Map((await h.client.call.listTasks({ tenant: '', limit: 0, status: 'cancelled', goalContains: '', pageToken: '' })).tasks.map((t) => [t.id, t.delivery?.sha]));
    expect(listed.get(task.id)).toBe(tip);
    expect(listed.get(other.id)).toBe('');
  });
});

describe('GitBranchDelivery.branchShas', () => {
  it('reads the tips of several branches in one call, leaving out those that do not exist', async () => {
    const repo = await createGitRepo({ 'README.md': '# calc\n' });
    try {
      const a = await workOnTaskBranch(repo.dir, 'a');
      const b = await workOnTaskBranch(repo.dir, 'b', 'b.js');
      expect(await git.branchShas(repo.dir, ['maestro/a', 'maestro/b', 'maestro/missing'])).toEqual(new Map([['maestro/a', a], ['maestro/b', b]]));
      expect(await git.branchShas(repo.dir, [])).toEqual(new Map());
    } finally {
      await repo.remove();
    }
  });
});
