import { UserError } from '@maestro/runtime';
import { resolveSandboxLimits, SandboxDefaults } from './sandbox-defaults.js';

describe('resolveSandboxLimits', () => {
  it('fills in the defaults and takes the overrides', () => {
    expect(resolveSandboxLimits()).toEqual(SandboxDefaults);
    expect(resolveSandboxLimits({ processes: 64 })).toEqual({ ...SandboxDefaults, processes: 64 });
  });

  it('names the limit that is not a positive whole number', () => {
    expect(() => resolveSandboxLimits({ cpuSeconds: 0 })).toThrow(UserError);
    expect(() => resolveSandboxLimits({ memoryBytes: 1.5 })).toThrow(/limits\.memoryBytes: must be a positive whole number/);
  });
});
