import { describe, expect, it } from 'vitest';
import { destination } from '../../../src/broker/core/destination.js';
import { BrokerMessage } from '../../../src/broker/core/message.js';
import { compileSelector, SelectorError } from '../../../src/broker/core/selector.js';
import { createHeaders } from '../../../src/stomp/index.js';

function msg(headers: Record<string, string>, extra: Partial<ConstructorParameters<typeof BrokerMessage>[0]> = {}): BrokerMessage {
  return new BrokerMessage({ id: 'ID:x:1', destination: destination('queue', 'q'), headers: createHeaders(headers), body: Buffer.alloc(0), persistent: false, priority: 4, expiration: 0, timestamp: 1000, ...extra });
}

const m = msg({ color: 'red', weight: '10', price: '2.5', name: "O'Brien", flag: 'true', path: 'a_b%c', 'correlation-id': 'c-7', type: 'order' }, { priority: 7, persistent: true });

const cases: Array<[string, boolean]> = [
  ["color = 'red'", true],
  ["color <> 'red'", false],
  ['weight > 5', true],
  ['weight >= 10 AND weight <= 10', true],
  ['weight < 5 OR price < 3', true],
  ["NOT color = 'blue'", true],
  ["color IN ('green', 'red')", true],
  ["color NOT IN ('green', 'red')", false],
  ["color LIKE 'r%'", true],
  ["color LIKE 'r_d'", true],
  ["color NOT LIKE '%e%'", false],
  ["path LIKE 'a\\_b\\%c' ESCAPE '\\'", true],
  ["path LIKE 'a!_b!%c' ESCAPE '!'", true],
  ['weight BETWEEN 5 AND 10', true],
  ['weight NOT BETWEEN 5 AND 10', false],
  ['missing IS NULL', true],
  ['color IS NOT NULL', true],
  ["missing = 'x'", false],
  ["NOT missing = 'x'", false],
  ['missing = 1 OR weight = 10', true],
  ['weight * 2 + 1 = 21', true],
  ['-weight = -10', true],
  ['weight / 4 = 2.5', true],
  ['price = 2.5e0', true],
  ['flag = TRUE', true],
  ["name = 'O''Brien'", true],
  ['JMSPriority > 5', true],
  ["JMSDeliveryMode = 'PERSISTENT'", true],
  ["JMSCorrelationID = 'c-7'", true],
  ["JMSType = 'order'", true],
  ['JMSTimestamp = 1000', true],
  ['JMSRedelivered = FALSE', true],
  ["(color = 'red' OR color = 'blue') AND NOT (weight < 10)", true],
  ['0x0A = weight', true],
];

describe('selectors', () => {
  for (const [selector, expected] of cases) {
    it(`${selector} → ${expected}`, () => {
      expect(compileSelector(selector)(m)).toBe(expected);
    });
  }

  it('names the position of a syntax error', () => {
    const bad: Array<[string, number, RegExp]> = [
      ["color = 'red' AND", 18, /Unexpected end of selector/],
      ["color == 'red'", 8, /Unexpected '='/],
      ["color = 'red", 9, /Unterminated string literal/],
      ['weight > 5 )', 12, /Unexpected '\)'/],
      ["color IN 'red'", 10, /Expected '\('/],
      ['weight # 2', 8, /Unexpected character '#'/],
      ["color LIKE 5", 12, /LIKE needs a string pattern/],
    ];
    for (const [text, position, message] of bad) {
      try {
        compileSelector(text);
        throw new Error(`no error for ${text}`);
      } catch (err) {
        expect(err, text).toBeInstanceOf(SelectorError);
        expect((err as SelectorError).position, text).toBe(position);
        expect((err as SelectorError).message, text).toMatch(message);
      }
    }
  });
});
