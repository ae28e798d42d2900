"""The article form of the staff's knowledge-base pages."""

from typing import Any

from django import forms

from tickets.models import ARTICLE_TITLE_MAX_LENGTH, ArticleCategory
from tickets.services.knowledge import BODY_MAX_LENGTH


class ArticleForm(forms.Form):
    title = forms.CharField(
        max_length=ARTICLE_TITLE_MAX_LENGTH,
        label="Title",
        help_text="The question as a customer would ask it, e.g. “How do I return an online order "
        "in a store?”",
        error_messages={"required": "Give the article a title."},
    )
    category = forms.ChoiceField(
        choices=[("", "Choose a category…"), *ArticleCategory.choices],
        label="Category",
        error_messages={"required": "Choose a category."},
    )
    body = forms.CharField(
        max_length=BODY_MAX_LENGTH,
        label="Answer",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}),
        help_text="Markdown: **bold**, *italic*, [a link](https://…), lists with “- ”, "
        "headings with “## ”, tables. Raw HTML is shown as text.",
        error_messages={"required": "Write the answer."},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs["class"] = css
            field.widget.attrs["aria-describedby"] = f"{name}-help"
        self.fields["body"].widget.attrs["class"] = "form-control font-monospace article-source"

    def clean_title(self) -> str:
        return " ".join(self.cleaned_data["title"].split())

    def clean_body(self) -> str:
        body = str(self.cleaned_data["body"])
        if not body.strip():
            raise forms.ValidationError("Write the answer.")
        return body

    def full_clean(self) -> None:
        super().full_clean()
        # Mark the fields in error for assistive technology and the eye alike.
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{name}-errors {name}-help"
