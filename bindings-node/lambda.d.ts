import type { EventOutcome } from './index.js'

/**
 * The AWS Lambda handler of KMS CloudTrail events (see lambda.js for its environment
 * variables): re-checks the keys the event touches and, when configured, fixes them.
 */
export declare function handler(event: unknown, context?: unknown): Promise<EventOutcome>
