/**
 * A rule that throws while an event is matched (a bug in one rule's detection) must not cost the event
 * the other rules: `match` treats it as not matched and `failures()` names it.
 */
import { describe, expect, it } from 'vitest';
import { defaultPipeline, fieldId, objectFieldSource, SigmaRuleSet } from '../src/index.js';
import type { EventView } from '../src/index.js';
import { processCreationRule as rule } from './helpers.js';

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const COMMAND_LINE = fieldId('CommandLine');

describe('SigmaRuleSet: a rule that throws', () => {
  const whoami = "  sel:\n    Image|endswith: '\\\\whoami.exe'\n  condition: sel";
  const set = new SigmaRuleSet(
    [rule('first', whoami), rule('boom', whoami), rule('last', whoami)],
    defaultPipeline,
  );
  const boom = set.rules.find((r) => r.rule.id === 'boom')!;
  const bug = new Error('detection bug');
  // Every variant of `boom` throws on an event whose CommandLine says so, and matches as written otherwise.
  for (const variant of boom.variants) {
    const detects = variant.detects;
    (variant as { detects: (view: EventView) => boolean }).detects = (view) => {
      if (view.textAt(COMMAND_LINE) === 'throw') throw bug;
      return detects(view);
    };
  }
  const event = (commandLine: string) =>
    objectFieldSource({ Channel: SYSMON, EventID: 1, Image: 'C:\\x\\whoami.exe', CommandLine: commandLine });

  it('is not matched on that event, is named by failures(), and the other rules still match', () => {
    expect(set.match(event('throw')).map((r) => r.rule.id)).toEqual(['first', 'last']);
    expect(set.failures()).toEqual([{ rule: boom, error: bug }]);
  });

  it('matches again on the next event, and failures() is emptied by each match', () => {
    set.match(event('throw'));
    expect(set.match(event('whoami')).map((r) => r.rule.id)).toEqual(['first', 'boom', 'last']);
    expect(set.failures()).toEqual([]);
  });
});
