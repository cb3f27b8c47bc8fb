import { z } from 'zod';

/** microsoft.graph.resultInfo: why an operation failed or a call ended. */
export const resultInfoSchema = z.looseObject({
  '@odata.type': z.string().optional(),
  code: z.number().int().nullish(),
  subcode: z.number().int().nullish(),
  message: z.string().nullish(),
});
export type ResultInfo = z.infer<typeof resultInfoSchema>;
