import { Task } from '@maestro/contracts';
import { toTaskJson } from './presenters.js';

describe('toTaskJson', () => {
  const subtask = {
    id: 's2', title: 't', instructions: 'i', files: ['src/a.js'], status: 'pending', summary: '', commitSha: '', filesChanged: [], failureReason: '',
    dependsOn: ['s1'], resources: ['port:3000'], concerns: ['file:/repo/src/a.js', 'port:3000'],
  };

  it('shows each subtask\'s dependencies, resources and concerns', () => {
    const json = toTaskJson(Task.fromPartial({ id: 't1', subtasks: [subtask] }));
    expect(json.subtasks[0]).toMatchObject({ dependsOn: ['s1'], resources: ['port:3000'], concerns: ['file:/repo/src/a.js', 'port:3000'] });
  });

  it('shows the delivery once there is one, and null before', () => {
    expect(toTaskJson(Task.fromPartial({ id: 't1' })).delivery).toBeNull();
    const delivery = { mode: 'fast-forward', branch: 'maestro/t1', sha: 'abc', delivered: false, reason: 'the working tree has uncommitted changes' };
    expect(toTaskJson(Task.fromPartial({ id: 't1', delivery })).delivery).toEqual(delivery);
  });
});
