/** Seeded buyer conversations for chat flows: the public face of `src/chat/`. */

export { PLACEHOLDER_WORDS } from './assistant-placeholder.ts';
export type {
  BuyerMessage,
  BuyerMessageOptions,
  LengthWeights,
  MessageLength,
  PiiKinds,
} from './buyer-message.ts';
export {
  buyerMessage,
  countWords,
  DEFAULT_LENGTH_WEIGHTS,
  DEFAULT_REFERENCE_DATE,
  MESSAGE_LENGTH_WORDS,
} from './buyer-message.ts';
export type { BuyerIntent } from './buyer-phrases.ts';
export { BUYER_INTENTS } from './buyer-phrases.ts';
export type { ChatMessage, Conversation, ConversationOptions } from './conversation.ts';
export { conversationOptionsSchema, createConversation } from './conversation.ts';
