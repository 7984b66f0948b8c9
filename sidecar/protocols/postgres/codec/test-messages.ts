// Sample messages for the codec's tests: each built with the builders, with the object its parser must return.
// Shared by the round-trip, split-read and fuzz tests so that every message kind goes through all of them.

import * as b from './build.ts';
import type { BackendMessage } from './backend.ts';
import type { AuthResponseKind, FrontendMessage, StartupPhaseMessage } from './frontend.ts';
import { StartupCode } from './types.ts';

export interface StartupSample { readonly name: string; readonly frame: Buffer; readonly expected: StartupPhaseMessage }
export interface FrontendSample {
  readonly name: string;
  readonly frame: Buffer;
  readonly expected: FrontendMessage;
  readonly auth?: AuthResponseKind;
}
export interface BackendSample { readonly name: string; readonly frame: Buffer; readonly expected: BackendMessage }

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const key32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));

export const startupSamples: readonly StartupSample[] = [
  {
    name: 'StartupMessage 3.0',
    frame: b.buildStartupMessage({ user: 'agent', database: 'shop', application_name: 'psql ✓' }),
    expected: {
      kind: 'Startup', protocolVersion: StartupCode.Protocol30, major: 3, minor: 0,
      parameters: new Map([['user', 'agent'], ['database', 'shop'], ['application_name', 'psql ✓']]),
    },
  },
  {
    name: 'StartupMessage 3.2 with a protocol option',
    frame: b.buildStartupMessage(new Map([['user', 'u'], ['_pq_.test', 'x']]), StartupCode.Protocol32),
    expected: {
      kind: 'Startup', protocolVersion: StartupCode.Protocol32, major: 3, minor: 2,
      parameters: new Map([['user', 'u'], ['_pq_.test', 'x']]),
    },
  },
  { name: 'SSLRequest', frame: b.buildSSLRequest(), expected: { kind: 'SSLRequest' } },
  { name: 'GSSENCRequest', frame: b.buildGSSENCRequest(), expected: { kind: 'GSSENCRequest' } },
  {
    name: 'CancelRequest 3.0 key',
    frame: b.buildCancelRequest(4242, Buffer.from([1, 2, 3, 4])),
    expected: { kind: 'CancelRequest', processId: 4242, secretKey: Buffer.from([1, 2, 3, 4]) },
  },
  {
    name: 'CancelRequest 3.2 key',
    frame: b.buildCancelRequest(-7, key32),
    expected: { kind: 'CancelRequest', processId: -7, secretKey: key32 },
  },
];

export const frontendSamples: readonly FrontendSample[] = [
  {
    name: 'PasswordMessage', auth: 'password', frame: b.buildPasswordMessage('eyJhbGciOi.jwt'),
    expected: { kind: 'Password', password: 'eyJhbGciOi.jwt' },
  },
  {
    name: 'SASLInitialResponse', auth: 'sasl-initial', frame: b.buildSASLInitialResponse('SCRAM-SHA-256', bytes('n,,n=,r=abc')),
    expected: { kind: 'SASLInitialResponse', mechanism: 'SCRAM-SHA-256', data: bytes('n,,n=,r=abc') },
  },
  {
    name: 'SASLInitialResponse without data', auth: 'sasl-initial', frame: b.buildSASLInitialResponse('X', null),
    expected: { kind: 'SASLInitialResponse', mechanism: 'X', data: null },
  },
  {
    name: 'SASLResponse', auth: 'sasl', frame: b.buildSASLResponse(bytes('c=biws,r=abc,p=xyz')),
    expected: { kind: 'SASLResponse', data: bytes('c=biws,r=abc,p=xyz') },
  },
  { name: 'Query', frame: b.buildQuery('SELECT 1; SELECT \'ü\''), expected: { kind: 'Query', query: 'SELECT 1; SELECT \'ü\'' } },
  { name: 'Query empty', frame: b.buildQuery(''), expected: { kind: 'Query', query: '' } },
  {
    name: 'Parse', frame: b.buildParse('s1', 'SELECT $1::int, $2', [23, 0xffffffff]),
    expected: { kind: 'Parse', name: 's1', query: 'SELECT $1::int, $2', paramTypes: [23, 0xffffffff] },
  },
  {
    name: 'Parse unnamed without types', frame: b.buildParse('', 'SELECT 1'),
    expected: { kind: 'Parse', name: '', query: 'SELECT 1', paramTypes: [] },
  },
  {
    name: 'Bind',
    frame: b.buildBind({
      portal: 'p1', statement: 's1', paramFormats: [0, 1, 0], params: ['42', Buffer.from([0, 0, 0, 7]), null],
      resultFormats: [1],
    }),
    expected: {
      kind: 'Bind', portal: 'p1', statement: 's1', paramFormats: [0, 1, 0],
      params: [bytes('42'), Buffer.from([0, 0, 0, 7]), null], resultFormats: [1],
    },
  },
  {
    name: 'Bind minimal', frame: b.buildBind({}),
    expected: { kind: 'Bind', portal: '', statement: '', paramFormats: [], params: [], resultFormats: [] },
  },
  { name: 'Describe statement', frame: b.buildDescribe('S', 's1'), expected: { kind: 'Describe', target: 'S', name: 's1' } },
  { name: 'Describe portal', frame: b.buildDescribe('P', ''), expected: { kind: 'Describe', target: 'P', name: '' } },
  { name: 'Execute', frame: b.buildExecute('p1', 100), expected: { kind: 'Execute', portal: 'p1', maxRows: 100 } },
  { name: 'Execute unnamed', frame: b.buildExecute(), expected: { kind: 'Execute', portal: '', maxRows: 0 } },
  { name: 'Close statement', frame: b.buildClose('S', 's1'), expected: { kind: 'Close', target: 'S', name: 's1' } },
  { name: 'Close portal', frame: b.buildClose('P', 'p'), expected: { kind: 'Close', target: 'P', name: 'p' } },
  { name: 'Sync', frame: b.buildSync(), expected: { kind: 'Sync' } },
  { name: 'Flush', frame: b.buildFlush(), expected: { kind: 'Flush' } },
  { name: 'Terminate', frame: b.buildTerminate(), expected: { kind: 'Terminate' } },
  { name: 'CopyData', frame: b.buildCopyData(bytes('1\tone\n')), expected: { kind: 'CopyData', data: bytes('1\tone\n') } },
  { name: 'CopyDone', frame: b.buildCopyDone(), expected: { kind: 'CopyDone' } },
  { name: 'CopyFail', frame: b.buildCopyFail('aborted'), expected: { kind: 'CopyFail', message: 'aborted' } },
  {
    name: 'FunctionCall', frame: b.buildFunctionCall(2245, [1], [Buffer.from([1]), null], 0),
    expected: { kind: 'FunctionCall', functionOid: 2245, argFormats: [1], args: [Buffer.from([1]), null], resultFormat: 0 },
  },
];

export const backendSamples: readonly BackendSample[] = [
  { name: 'AuthenticationOk', frame: b.buildAuthenticationOk(), expected: { kind: 'AuthenticationOk' } },
  {
    name: 'AuthenticationCleartextPassword', frame: b.buildAuthenticationCleartextPassword(),
    expected: { kind: 'AuthenticationCleartextPassword' },
  },
  {
    name: 'AuthenticationMD5Password', frame: b.buildAuthenticationMD5Password(Buffer.from([9, 8, 7, 6])),
    expected: { kind: 'AuthenticationMD5Password', salt: Buffer.from([9, 8, 7, 6]) },
  },
  {
    name: 'AuthenticationSASL', frame: b.buildAuthenticationSASL(['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256']),
    expected: { kind: 'AuthenticationSASL', mechanisms: ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-256'] },
  },
  {
    name: 'AuthenticationSASLContinue', frame: b.buildAuthenticationSASLContinue(bytes('r=abc,s=c2FsdA==,i=4096')),
    expected: { kind: 'AuthenticationSASLContinue', data: bytes('r=abc,s=c2FsdA==,i=4096') },
  },
  {
    name: 'AuthenticationSASLFinal', frame: b.buildAuthenticationSASLFinal(bytes('v=xyz')),
    expected: { kind: 'AuthenticationSASLFinal', data: bytes('v=xyz') },
  },
  {
    name: 'ParameterStatus', frame: b.buildParameterStatus('client_encoding', 'UTF8'),
    expected: { kind: 'ParameterStatus', name: 'client_encoding', value: 'UTF8' },
  },
  {
    name: 'BackendKeyData 3.0', frame: b.buildBackendKeyData(1234, Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    expected: { kind: 'BackendKeyData', processId: 1234, secretKey: Buffer.from([0xde, 0xad, 0xbe, 0xef]) },
  },
  {
    name: 'BackendKeyData 3.2', frame: b.buildBackendKeyData(1234, key32),
    expected: { kind: 'BackendKeyData', processId: 1234, secretKey: key32 },
  },
  { name: 'ReadyForQuery idle', frame: b.buildReadyForQuery('I'), expected: { kind: 'ReadyForQuery', status: 'I' } },
  { name: 'ReadyForQuery in transaction', frame: b.buildReadyForQuery('T'), expected: { kind: 'ReadyForQuery', status: 'T' } },
  { name: 'ReadyForQuery failed', frame: b.buildReadyForQuery('E'), expected: { kind: 'ReadyForQuery', status: 'E' } },
  {
    name: 'RowDescription',
    frame: b.buildRowDescription([
      { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 23, typeLen: 4, typeMod: -1, format: 0 },
      { name: 'card', tableOid: 0xfffffff0, columnAttr: 3, typeOid: 25 },
      { name: '?column?', format: 1, typeOid: 1700, typeMod: 655366 },
    ]),
    expected: {
      kind: 'RowDescription', fields: [
        { name: 'id', tableOid: 16384, columnAttr: 1, typeOid: 23, typeLen: 4, typeMod: -1, format: 0 },
        { name: 'card', tableOid: 0xfffffff0, columnAttr: 3, typeOid: 25, typeLen: -1, typeMod: -1, format: 0 },
        { name: '?column?', tableOid: 0, columnAttr: 0, typeOid: 1700, typeLen: -1, typeMod: 655366, format: 1 },
      ],
    },
  },
  {
    name: 'DataRow', frame: b.buildDataRow(['1', null, Buffer.from([0, 1, 2]), '']),
    expected: { kind: 'DataRow', values: [bytes('1'), null, Buffer.from([0, 1, 2]), Buffer.alloc(0)] },
  },
  { name: 'DataRow without columns', frame: b.buildDataRow([]), expected: { kind: 'DataRow', values: [] } },
  { name: 'CommandComplete', frame: b.buildCommandComplete('SELECT 3'), expected: { kind: 'CommandComplete', tag: 'SELECT 3' } },
  {
    name: 'ErrorResponse',
    frame: b.buildErrorResponse({
      severity: 'ERROR', code: '42501', message: 'denied by rule "no-drop"', hint: 'ask', position: 7,
    }),
    expected: {
      kind: 'ErrorResponse', severity: 'ERROR', code: '42501', message: 'denied by rule "no-drop"',
      fields: new Map([['S', 'ERROR'], ['V', 'ERROR'], ['C', '42501'], ['M', 'denied by rule "no-drop"'], ['H', 'ask'], ['P', '7']]),
    },
  },
  {
    name: 'NoticeResponse from a field map',
    frame: b.buildNoticeResponse(new Map([['S', 'AVIS'], ['C', '01000'], ['M', 'attendez'], ['Z', 'future field']])),
    expected: {
      kind: 'NoticeResponse', severity: 'AVIS', code: '01000', message: 'attendez',
      fields: new Map([['S', 'AVIS'], ['C', '01000'], ['M', 'attendez'], ['Z', 'future field']]),
    },
  },
  {
    name: 'CopyInResponse', frame: b.buildCopyResponse('CopyInResponse', 0, [0, 0]),
    expected: { kind: 'CopyInResponse', overallFormat: 0, columnFormats: [0, 0] },
  },
  {
    name: 'CopyOutResponse', frame: b.buildCopyResponse('CopyOutResponse', 1, [1]),
    expected: { kind: 'CopyOutResponse', overallFormat: 1, columnFormats: [1] },
  },
  {
    name: 'CopyBothResponse', frame: b.buildCopyResponse('CopyBothResponse', 0, []),
    expected: { kind: 'CopyBothResponse', overallFormat: 0, columnFormats: [] },
  },
  { name: 'CopyData (backend)', frame: b.buildCopyData(bytes('x\n')), expected: { kind: 'CopyData', data: bytes('x\n') } },
  { name: 'CopyDone (backend)', frame: b.buildCopyDone(), expected: { kind: 'CopyDone' } },
  { name: 'ParseComplete', frame: b.buildParseComplete(), expected: { kind: 'ParseComplete' } },
  { name: 'BindComplete', frame: b.buildBindComplete(), expected: { kind: 'BindComplete' } },
  { name: 'CloseComplete', frame: b.buildCloseComplete(), expected: { kind: 'CloseComplete' } },
  { name: 'NoData', frame: b.buildNoData(), expected: { kind: 'NoData' } },
  { name: 'PortalSuspended', frame: b.buildPortalSuspended(), expected: { kind: 'PortalSuspended' } },
  { name: 'EmptyQueryResponse', frame: b.buildEmptyQueryResponse(), expected: { kind: 'EmptyQueryResponse' } },
  {
    name: 'ParameterDescription', frame: b.buildParameterDescription([23, 25, 4294967295]),
    expected: { kind: 'ParameterDescription', typeOids: [23, 25, 4294967295] },
  },
  {
    name: 'NegotiateProtocolVersion', frame: b.buildNegotiateProtocolVersion(0, ['_pq_.a', '_pq_.b']),
    expected: { kind: 'NegotiateProtocolVersion', newestMinor: 0, unrecognizedOptions: ['_pq_.a', '_pq_.b'] },
  },
  {
    name: 'NotificationResponse', frame: b.buildNotificationResponse(99, 'jobs', '{"id":1}'),
    expected: { kind: 'NotificationResponse', processId: 99, channel: 'jobs', payload: '{"id":1}' },
  },
  {
    name: 'FunctionCallResponse', frame: b.buildFunctionCallResponse(Buffer.from([5])),
    expected: { kind: 'FunctionCallResponse', value: Buffer.from([5]) },
  },
  { name: 'FunctionCallResponse NULL', frame: b.buildFunctionCallResponse(null), expected: { kind: 'FunctionCallResponse', value: null } },
];
