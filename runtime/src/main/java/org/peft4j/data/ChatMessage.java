package org.peft4j.data;

/**
 * One turn of a conversation.
 *
 * @param role    {@code system}, {@code user} or {@code assistant} (only assistant turns are learned)
 * @param content the text of the turn
 */
public record ChatMessage(String role, String content) {

    public ChatMessage {
        if (role == null || role.isBlank()) {
            throw new IllegalArgumentException("a chat message needs a role (system, user or assistant)");
        }
        if (content == null) {
            throw new IllegalArgumentException("the " + role + " message has no content");
        }
    }

    public boolean isAssistant() {
        return role.equals("assistant");
    }
}
