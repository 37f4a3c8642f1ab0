package main

import "testing"

// TestCheckInvalidNotifiers: the mistakes of the notifier types and their
// templates, as check reports them.
func TestCheckInvalidNotifiers(t *testing.T) {
	checkInvalid(t, []invalidCase{
		{
			name: "template that does not parse",
			old:  "    events: [session.started, session.ended, watch.failing]\n",
			new:  "    events: [session.started, session.ended, watch.failing]\n    template: {title: \"{{.Title | bogus}}\"}\n",
			want: []string{"is invalid (1 problem):\n", "\n  notifiers[1].template: template: slack-video.title:1: function \"bogus\" not defined"},
		},
		{
			name: "template that breaks on some event types",
			old:  "    events: [session.started, session.ended, watch.failing]\n",
			new: "    events: [session.started, session.ended, watch.failing]\n" +
				"    template:\n      title: \"{{.Title}}\"\n      text: |\n        {{.Meeting}}\n        {{index .Data.previous \"live_participants\"}}\n",
			want: []string{
				"is invalid (1 problem):\n",
				"\n  notifiers[1].template: events session.started, watch.failing, watch.recovered, usage.threshold_crossed, notifier.failing and notifier.recovered: " +
					"template: slack-video.text:2:2: executing \"slack-video.text\" at <index .Data.previous \"live_participants\">: error calling index: index of untyped nil\n",
			},
		},
		{
			name: "routing key on a slack notifier",
			old:  "    events: [session.started, session.ended, watch.failing]\n",
			new:  "    events: [session.started, session.ended, watch.failing]\n    routing_key: ${PD_ROUTING_KEY}\n",
			want: []string{"line 19: notifiers[1].routing_key: a slack notifier takes no routing key; only pagerduty notifiers do"},
		},
		{
			name: "group on a webhook",
			old:  "    secret: ${RTKWATCHD_WEBHOOK_SECRET}\n",
			new:  "    secret: ${RTKWATCHD_WEBHOOK_SECRET}\n    group: {wait: 30s, max: 10}\n",
			want: []string{"line 15: notifiers[0].group: a webhook notifier takes no group; only slack, teams, discord or email notifiers do"},
		},
		{
			name: "pagerduty without a routing key",
			old:  "  - name: slack-video\n", new: "  - name: oncall\n    type: pagerduty\n    routing_key: ${PD_ROUTING_KEY}\n    severity: fatal\n  - name: slack-video\n",
			env: map[string]string{"PD_ROUTING_KEY": "has a SPACE"},
			want: []string{
				"line 17: notifiers[1].routing_key: must not contain spaces or control characters",
				`line 18: notifiers[1].severity: must be one of critical, error, warning, info, got "fatal"`,
			},
			secrets: []string{"has a SPACE"},
		},
		{
			name: "email password over plaintext",
			old:  "  - name: slack-video\n",
			new: "  - name: mail\n    type: email\n    smtp:\n      host: 127.0.0.1\n      tls: none\n      username: rtk\n      password: ${SMTP_PASSWORD}\n" +
				"    from: rtkwatchd@example.com\n    to: [ops@example.com]\n  - name: slack-video\n",
			want: []string{"line 21: notifiers[1].smtp.password: needs tls starttls or tls: a password is never sent in plaintext"},
		},
	})
}
