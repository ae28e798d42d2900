from django import forms

from stores.models import Store


class CommentForm(forms.Form):
    # Length and emptiness are the comment service's rules; it words the messages.
    body = forms.CharField(label="Add a comment", required=False, strip=True, widget=forms.Textarea)
    store = forms.ModelChoiceField(queryset=Store.objects.none(), required=False, label="For store")

    def __init__(self, *args: object, stores: list[Store] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        stores = stores or []
        if len(stores) > 1:
            self.fields["store"].queryset = Store.objects.filter(pk__in=[s.pk for s in stores])  # type: ignore[attr-defined]
            self.fields["store"].initial = stores[0].pk
            self.fields["store"].empty_label = None  # type: ignore[attr-defined]
        else:
            del self.fields["store"]


class MergeForm(forms.Form):
    survivor = forms.TypedChoiceField(
        coerce=int,
        widget=forms.RadioSelect,
        label="Keep this record",
        error_messages={
            "required": "Choose the record to keep.",
            "invalid_choice": "Choose one of the two records.",
        },
    )

    def __init__(self, *args: object, choices: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["survivor"].choices = choices  # type: ignore[attr-defined]
