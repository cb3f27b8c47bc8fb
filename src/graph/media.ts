import { z } from 'zod';
import { odataTypeName } from './odata.js';

export const modalities = ['unknown', 'audio', 'video', 'videoBasedScreenSharing', 'data'] as const;
export const modalitySchema = z.enum(modalities);
export type Modality = z.infer<typeof modalitySchema>;

/**
 * A prompt to prefetch. The walkthrough in seed 000 spells the address `url`; every other seed
 * and the reference use `uri`. Normalised to `uri`.
 */
export const mediaInfoSchema = z
  .looseObject({
    uri: z.string().optional(),
    url: z.string().optional(),
    resourceId: z.string().nullish(),
  })
  .transform((media, ctx) => {
    const uri = media.uri ?? media.url;
    if (uri === undefined) {
      ctx.addIssue({ code: 'custom', message: 'preFetchMedia entry needs a uri' });
      return z.NEVER;
    }
    return { uri, ...(media.resourceId ? { resourceId: media.resourceId } : {}) };
  });
export type MediaInfo = z.output<typeof mediaInfoSchema>;

export interface ServiceHostedMediaConfig {
  '@odata.type': '#microsoft.graph.serviceHostedMediaConfig';
  preFetchMedia?: MediaInfo[];
  removeFromDefaultAudioGroup?: boolean;
}

export interface AppHostedMediaConfig {
  '@odata.type': '#microsoft.graph.appHostedMediaConfig';
  /** The serialized media session configuration of the bot's media stack, passed through untouched. */
  blob: string;
  removeFromDefaultAudioGroup?: boolean;
}

export type MediaConfig = ServiceHostedMediaConfig | AppHostedMediaConfig;

/**
 * mediaConfig arrives with or without `@odata.type` (create-call page, seed 004, examples 3-5
 * omit it). Without a type, a `blob` means app-hosted media; anything else is service-hosted.
 */
export const mediaConfigSchema = z
  .looseObject({
    '@odata.type': z.string().optional(),
    blob: z.string().nullish(),
    preFetchMedia: z.array(mediaInfoSchema).nullish(),
    removeFromDefaultAudioGroup: z.boolean().nullish(),
  })
  .transform((config, ctx): MediaConfig => {
    const declared = config['@odata.type'] ? odataTypeName(config['@odata.type']).toLowerCase() : undefined;
    const common =
      config.removeFromDefaultAudioGroup != null
        ? { removeFromDefaultAudioGroup: config.removeFromDefaultAudioGroup }
        : {};
    const isAppHosted =
      declared === 'apphostedmediaconfig' || (declared === undefined && config.blob != null);
    if (isAppHosted) {
      if (config.blob == null) {
        ctx.addIssue({ code: 'custom', message: 'appHostedMediaConfig needs a blob', path: ['blob'] });
        return z.NEVER;
      }
      return { '@odata.type': '#microsoft.graph.appHostedMediaConfig', blob: config.blob, ...common };
    }
    if (declared !== undefined && declared !== 'servicehostedmediaconfig') {
      ctx.addIssue({
        code: 'custom',
        message: `unknown mediaConfig type ${config['@odata.type']}`,
        path: ['@odata.type'],
      });
      return z.NEVER;
    }
    return {
      '@odata.type': '#microsoft.graph.serviceHostedMediaConfig',
      ...(config.preFetchMedia ? { preFetchMedia: config.preFetchMedia } : {}),
      ...common,
    };
  });
