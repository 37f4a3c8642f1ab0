package notify

import "fmt"

// Discord's documented limits on a message beyond its embeds'.
const (
	discordContentMax = 2000 // the message's content, in characters
	discordEmbedsMax  = 10   // embeds in one message
)

// renderDiscordGroup turns a group into one Discord message: a content
// line that says how many events, where, and how many are not shown, and
// an embed for each of the first ten events, cut together to Discord's
// 6,000 characters for all the embeds of a message.
func renderDiscordGroup(g GroupMessage, t *Template, username string) ([]byte, error) {
	items, err := groupItems(g, t)
	if err != nil {
		return nil, fmt.Errorf("discord: %w", err)
	}
	shown := min(len(items), discordEmbedsMax)
	parts := make([]*discordParts, shown)
	var texts []*string
	for i := range shown {
		parts[i] = discordPartsFor(items[i].ev, t)
		texts = append(texts, parts[i].texts()...)
	}
	embeds := make([]discordEmbed, shown)
	fits := shrink(texts, discordText, discordEmbedTotalMax, func() int {
		n := 0
		for i, p := range parts {
			embeds[i] = p.embed()
			n += embedSize(embeds[i])
		}
		return n
	})
	if !fits {
		return nil, fmt.Errorf("encode discord message: over %d characters with every text empty", discordEmbedTotalMax)
	}
	content := "**" + discordText.within(discordContentMax/2).fit(groupSummary(items)) + "**"
	if s := leftOut(len(items) - shown); s != "" {
		content += "\n" + s + "."
	}
	return encodeDiscord(discordMessage{
		Content:         content,
		Username:        textLimit{max: discordUsernameMax, count: countRunes}.fit(username),
		AllowedMentions: discordMentions{Parse: []string{}},
		Embeds:          embeds,
	})
}
