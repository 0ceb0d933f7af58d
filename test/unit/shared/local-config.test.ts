import { describe, expect, it } from 'vitest';
import { readLocalConfig, unknownSettings } from '../../../functions/shared/local-config.ts';

describe('the local configuration', () => {
  it('takes the sizes BERTH_SIZES names (unset: those the engine runs), and names a wrong variable', () => {
    expect(readLocalConfig({}).BERTH_SIZES).toBeUndefined();
    const sizes = { cpus: [0.25, 0.5], maxMemoryMiB: 2048 };
    expect(readLocalConfig({ BERTH_SIZES: JSON.stringify(sizes) }).BERTH_SIZES).toEqual(sizes);
    expect(() => readLocalConfig({ BERTH_SIZES: '{"cpus":[]}' })).toThrow(
      /invalid configuration:\n {2}BERTH_SIZES\.cpus: .*\n {2}BERTH_SIZES\.maxMemoryMiB/,
    );
  });

  it("gives an app's connection ALB's 60 s of quiet, or BERTH_APP_IDLE_TIMEOUT_SECONDS, within ALB's bounds", () => {
    expect(readLocalConfig({}).BERTH_APP_IDLE_TIMEOUT_SECONDS).toBe(60);
    expect(readLocalConfig({ BERTH_APP_IDLE_TIMEOUT_SECONDS: '900' }).BERTH_APP_IDLE_TIMEOUT_SECONDS).toBe(
      900,
    );
    for (const wrong of ['0', '4001', '1.5', 'x'])
      expect(() => readLocalConfig({ BERTH_APP_IDLE_TIMEOUT_SECONDS: wrong })).toThrow(
        /BERTH_APP_IDLE_TIMEOUT_SECONDS/,
      );
  });

  it("takes a price table with Fargate's 1-minute minimum or none, and refuses another, which it could not bill", () => {
    const table = { version: 'v1', vcpuHourMicroUsd: 40_480, gbHourMicroUsd: 4_445 };
    const read = (minimum: number) =>
      readLocalConfig({
        BERTH_PRICE_TABLE: JSON.stringify({ ...table, minimumSecondsPerInstance: minimum }),
      });
    expect(read(60).BERTH_PRICE_TABLE?.minimumSecondsPerInstance).toBe(60);
    expect(read(0).BERTH_PRICE_TABLE?.minimumSecondsPerInstance).toBe(0);
    expect(() => read(300)).toThrow(
      "BERTH_PRICE_TABLE.minimumSecondsPerInstance: must be 0 (none) or 60 (Fargate's 1-minute minimum per instance)",
    );
  });

  it('names a setting given empty, rather than reading it as 0 or telling it a pattern', () => {
    expect(() =>
      readLocalConfig({ BERTH_PORT: '', BERTH_TABLE_NAME: ' ', BERTH_INGRESS_PORT: '8001' }),
    ).toThrow(
      'invalid configuration:\n' +
        '  BERTH_PORT: is empty; give it a value, or unset it for its default\n' +
        '  BERTH_TABLE_NAME: is empty; give it a value, or unset it for its default',
    );
  });

  it('says what a table name may be, where one is not', () => {
    for (const wrong of ['nr', 'acme/web', 'x'.repeat(256)])
      expect(() => readLocalConfig({ BERTH_TABLE_NAME: wrong })).toThrow(
        'invalid configuration:\n  BERTH_TABLE_NAME: must be a DynamoDB table name: 3 to 255 letters, digits, "_", "." or "-"',
      );
    expect(readLocalConfig({ BERTH_TABLE_NAME: 'berth_dev.2' }).BERTH_TABLE_NAME).toBe('berth_dev.2');
  });

  it('takes a DynamoDB endpoint as an http(s) URL, and says so of one without its scheme', () => {
    for (const wrong of ['localhost:8000', '127.0.0.1:8000', 'ftp://127.0.0.1:8000', 'http//x'])
      expect(() => readLocalConfig({ BERTH_DYNAMODB_ENDPOINT: wrong })).toThrow(
        'invalid configuration:\n  BERTH_DYNAMODB_ENDPOINT: must be an http:// or https:// URL, such as http://127.0.0.1:8000',
      );
    for (const right of ['http://localhost:8000', 'https://dynamodb.eu-west-1.amazonaws.com'])
      expect(readLocalConfig({ BERTH_DYNAMODB_ENDPOINT: right }).BERTH_DYNAMODB_ENDPOINT).toBe(right);
  });

  it('refuses one port for two servers, naming both settings, as a port taken at start would blame the later', () => {
    expect(() => readLocalConfig({ BERTH_INGRESS_PORT: '9000', BERTH_REGISTRY_PORT: '9000' })).toThrow(
      'invalid configuration:\n' +
        '  BERTH_REGISTRY_PORT: is 9000, as BERTH_INGRESS_PORT is: the API, the ingress and the registry each need a ' +
        'port of their own',
    );
    // A default counts as much as a setting.
    expect(() => readLocalConfig({ BERTH_REGISTRY_PORT: '8080' })).toThrow(
      '  BERTH_REGISTRY_PORT: is 8080, as BERTH_PORT is',
    );
    expect(readLocalConfig({ BERTH_PORT: '9000', BERTH_INGRESS_PORT: '8080' }).BERTH_PORT).toBe(9000);
  });

  it('refuses a port fetch and browsers will not connect to, which the platform could not reach its own server on', () => {
    for (const setting of ['BERTH_PORT', 'BERTH_INGRESS_PORT', 'BERTH_REGISTRY_PORT']) {
      expect(() => readLocalConfig({ [setting]: '10080' })).toThrow(
        `invalid configuration:\n  ${setting}: is one of the ports fetch and browsers refuse to connect to (the Fetch standard's "bad ports", such as 6000, 6665–6669 and 10080): choose another`,
      );
    }
    expect(() => readLocalConfig({ BERTH_INGRESS_PORT: '6667' })).toThrow(
      'BERTH_INGRESS_PORT: is one of the ports',
    );
    expect(readLocalConfig({ BERTH_REGISTRY_PORT: '10081' }).BERTH_REGISTRY_PORT).toBe(10081);
  });

  it('names the BERTH_ variables it has no setting of, such as a misspelt one', () => {
    expect(
      unknownSettings({
        BERTH_TICK_SECONDS: '1',
        BERTH_TICK_MS: '100',
        BERTH_PORT: '1',
        HOME: '/root',
        BERTH_DATADIR: 'x',
      }),
    ).toEqual(['BERTH_DATADIR', 'BERTH_TICK_SECONDS']);
  });
});
