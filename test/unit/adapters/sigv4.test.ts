import { describe, expect, it } from 'vitest';
import { signedHeaders } from '../../../functions/adapters/aws/sigv4.ts';

// The credentials, date and scope of AWS's own SigV4 test suite (aws-sig-v4-test-suite).
const SUITE = {
  service: 'service',
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
  now: new Date('2015-08-30T12:36:00Z'),
};

describe('SigV4', () => {
  it("signs AWS's get-vanilla request as the test suite says", () => {
    const headers = signedHeaders(
      { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: '' },
      SUITE,
    );
    expect(headers).toEqual({
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    });
  });

  it("signs a DynamoDB call (a POST, a body beyond ASCII, a role's session token) as the SDK's own signer does", () => {
    const headers = signedHeaders(
      {
        method: 'POST',
        url: new URL('https://dynamodb.eu-west-1.amazonaws.com/'),
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'X-Amz-Target': 'DynamoDB_20120810.PutItem',
        },
        body: JSON.stringify({
          TableName: 'Berth-state',
          Item: { pk: { S: 'TENANT#acme' }, name: { S: 'Zürich ✓ "q"  two  spaces' } },
        }),
      },
      {
        service: 'dynamodb',
        region: 'eu-west-1',
        credentials: {
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
          sessionToken: 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def==',
        },
        now: new Date('2026-11-22T10:00:00Z'),
      },
    );
    // DynamoDB Local takes any signature, so only this stands between a mistake here and every call in AWS mode.
    // What @smithy/signature-v4 gave for these inputs (without its optional x-amz-content-sha256), byte for byte.
    expect(headers.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/eu-west-1/dynamodb/aws4_request, ' +
        'SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, ' +
        'Signature=42b0d617fd14148599e786b6b7bb48668f86f231630f1edf99aa7e7bb07ecc02',
    );
    expect(headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.PutItem',
      'x-amz-security-token': 'IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+abc/def==',
    });
  });

  it('signs with the key of the credentials and the day it is given, not one derived earlier', () => {
    const signature = (scope: typeof SUITE) =>
      signedHeaders(
        { method: 'GET', url: new URL('https://example.amazonaws.com/'), headers: {}, body: '' },
        scope,
      ).authorization?.split('Signature=')[1];
    const vanilla = signature(SUITE);
    const rotated = signature({
      ...SUITE,
      credentials: { ...SUITE.credentials, secretAccessKey: 'another' },
    });
    const nextDay = signature({ ...SUITE, now: new Date('2015-08-31T12:36:00Z') });
    const otherRegion = signature({ ...SUITE, region: 'eu-west-1' });
    expect(new Set([vanilla, rotated, nextDay, otherRegion]).size).toBe(4);
    expect(signature(SUITE)).toBe('5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
  });
});
