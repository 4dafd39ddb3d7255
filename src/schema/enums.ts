/** The enums of the session contract (DESIGN section 7). */
import { builder } from './builder.js';

export const SessionStateEnum = builder.enumType('SessionState', {
  values: ['ACTIVE', 'INACTIVE'] as const,
  description: 'INACTIVE while a pause is in force (in either direction).',
});

export const ConnectionStateEnum = builder.enumType('ConnectionState', {
  values: ['DISCONNECTED', 'CONNECTING', 'CONNECTED'] as const,
});

export const ProgressDirectionEnum = builder.enumType('ProgressDirection', {
  values: ['UPLOAD', 'DOWNLOAD'] as const,
});

export const ProgressModeEnum = builder.enumType('ProgressMode', {
  values: ['REPORT_INDEFINITELY', 'FOR_CURRENTLY_OUTSTANDING_WORK'] as const,
});
