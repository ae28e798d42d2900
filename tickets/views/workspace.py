from django.http import HttpRequest, HttpResponse

from crm.permissions import staff_required


@staff_required
def inquiry_detail(request: HttpRequest, inquiry_id: int) -> HttpResponse:
    raise NotImplementedError
