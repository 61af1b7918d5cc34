/**
 * Each test starts as a fresh n8n process would: no quota gate learned by an earlier test (a
 * pause, a pace, a halved limit). Tests of sharing run their executions inside one test.
 */
import { resetQuotaGates } from '../../nodes/shared/transport';

beforeEach(async () => await resetQuotaGates());
afterAll(async () => await resetQuotaGates());
