"""The main screen's widgets: the actors pane, the actor's header, the discrepancy tree, the
progress panel and the log. They show what they are given and post what the user did; the
data they show lives in app/models/, the decisions on the main screen."""
