// Package apitext words the API's values for people: what the CLI and
// the web pages both show for them.
package apitext

import pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"

var channels = map[pb.Channel]string{
	pb.Channel_CHANNEL_EMAIL:   "e-mail",
	pb.Channel_CHANNEL_WEBHOOK: "webhook",
}

// Channel names an alert channel for people: "e-mail", "webhook", or
// the enum's own name for a channel this client does not know.
func Channel(c pb.Channel) string {
	if s, ok := channels[c]; ok {
		return s
	}
	return c.String()
}
