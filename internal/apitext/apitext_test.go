package apitext_test

import (
	"testing"

	"github.com/stockwatch/stockwatch/internal/apitext"
	pb "github.com/stockwatch/stockwatch/proto/stockwatch/v1"
)

func TestChannel(t *testing.T) {
	for c, want := range map[pb.Channel]string{
		pb.Channel_CHANNEL_EMAIL:       "e-mail",
		pb.Channel_CHANNEL_WEBHOOK:     "webhook",
		pb.Channel_CHANNEL_UNSPECIFIED: "CHANNEL_UNSPECIFIED",
		pb.Channel(42):                 "42",
	} {
		if got := apitext.Channel(c); got != want {
			t.Errorf("Channel(%d) = %q, want %q", c, got, want)
		}
	}
}
